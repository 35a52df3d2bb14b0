package org.jmpipool;

import org.jmpipool.internal.RunningTask;

/**
 * Where the calling task runs: read it inside a task with {@link #current()}.
 *
 * <p>Typical uses are logging, per-worker scratch files and checks in tests. Results must not
 * depend on it: which worker runs a task depends on the schedule.
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
   * Returns the context of the task running on the calling thread.
   *
   * @return the context
   * @throws IllegalStateException when the calling thread is not running a pool task
   */
  static TaskContext current() {
    return RunningTask.context();
  }
}
