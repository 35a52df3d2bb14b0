package org.jmpipool;

import java.time.Duration;
import java.util.random.RandomGenerator;
import org.jmpipool.internal.worker.RunningTask;

/**
 * Where the calling task runs, and what its pool gives it: read it inside a task with
 * {@link #current()}.
 *
 * <p>Typical uses are logging, per-worker scratch files, the state an initializer made, random
 * numbers that do not depend on the schedule, and groups of parallel tasks. Results must not
 * depend on the worker: which worker runs a task depends on the schedule.
 */
public interface TaskContext {

  /**
   * Returns the MPI rank (in the job's world communicator) of the process running the task.
   *
   * @return the MPI rank (in the job's world communicator) of the process running the task
   */
  int rank();

  /**
   * Returns the number of processes in the job's world communicator, the master included.
   *
   * @return the number of processes in the job's world communicator, the master included
   */
  int worldSize();

  /**
   * Returns the name of the host running the task, as MPI reports it.
   *
   * @return the name of the host running the task, as MPI reports it
   */
  String host();

  /**
   * Returns the index of this task's worker in its pool, from 0 to {@link #workers()} - 1 (the
   * order of {@link WorkerPool#applyAll} results).
   *
   * @return the worker's index
   */
  int workerIndex();

  /**
   * Returns the number of workers of this task's pool.
   *
   * @return the number of workers
   */
  int workers();

  /**
   * Returns what the pool's initializer returned on this worker ({@link PoolBuilder#initializer}):
   * state made once per worker and shared by the tasks that run there, such as a loaded model
   * or an open file. With several task threads per worker, tasks use it concurrently.
   *
   * @param <S> the state's type, as the caller expects it
   * @return the state, or {@code null} when the pool has no initializer or it returned nothing
   */
  <S> S workerState();

  /**
   * Returns this task's random generator. It is seeded from the seed of the pool
   * ({@link PoolBuilder#seed}) or of the map ({@link MapOptions#seed}) and the task's index
   * (its position in a map's inputs, or the order of submission to the pool), never from the
   * worker or the time: a map draws the same numbers however it is scheduled, chunked or spread
   * over workers and threads. Not thread-safe: use it from the task's own thread.
   *
   * @return the generator, the same object for the whole task
   */
  RandomGenerator random();

  /**
   * Joins this task to the group of parallel tasks running now, one on each worker of the pool,
   * and returns their communicator, on which they run collectives together (like mpi4py's
   * {@code get_comm_workers()}). Waits up to 60 s for the other workers' tasks to join.
   *
   * <p>The rule: submit exactly {@link MpiPoolExecutor#workers() workers()} such tasks at once,
   * with no other tasks in flight on the pool, so that each worker runs one of them (the
   * scheduler gives each task to the least busy worker). {@link WorkerPool#applyAll} guarantees
   * it. When the rule is broken (two of them on one worker, or too few), the calls fail with an
   * {@link IllegalStateException} saying so, instead of waiting forever.
   *
   * @return the communicator; a task gets the same one on every call
   * @throws IllegalStateException when the group cannot be formed
   */
  default WorkerComm workerComm() {
    return workerComm(Duration.ofSeconds(60));
  }

  /**
   * Like {@link #workerComm()}, waiting up to {@code joinTimeout} for the other tasks to join.
   *
   * @param joinTimeout how long to wait for the group to form
   * @return the communicator
   * @throws IllegalStateException when the group cannot be formed
   */
  WorkerComm workerComm(Duration joinTimeout);

  /**
   * Returns the context of the task running on the calling thread.
   *
   * @return the context
   * @throws IllegalStateException when the calling thread is not running a pool task
   */
  static TaskContext current() {
    return RunningTask.context();
  }
}
