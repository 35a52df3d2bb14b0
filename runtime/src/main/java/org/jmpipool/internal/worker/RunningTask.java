package org.jmpipool.internal.worker;

import java.time.Duration;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.jmpipool.TaskContext;
import org.jmpipool.WorkerComm;
import org.jmpipool.internal.wire.TaskSeeds;

/**
 * The {@link TaskContext} of a task thread: its worker's context, plus what belongs to the task
 * running now (its random seed, its parallel-task membership).
 *
 * <p>Threads: its task thread only (one per thread, thread-local).
 */
public final class RunningTask implements TaskContext {

  private static final ThreadLocal<RunningTask> CURRENT = new ThreadLocal<>();

  private final WorkerContext worker;
  /** The random base of the running task (of its first item, for a chunk). */
  private long taskBase;
  /** The random base of the item running now. */
  private long randomBase;
  private RandomGenerator random;
  private WorkerGroup.Member member;

  private RunningTask(WorkerContext worker) {
    this.worker = worker;
  }

  /** Makes the calling thread a task thread of a worker. */
  static void bind(WorkerContext worker) {
    CURRENT.set(new RunningTask(worker));
  }

  /** Returns the calling task thread's context; only on task threads. */
  static RunningTask onThisThread() {
    return CURRENT.get();
  }

  /** Returns whether the calling thread runs tasks. */
  public static boolean isBound() {
    return CURRENT.get() != null;
  }

  /** Returns the context of the calling task thread, or {@code null} outside tasks. */
  public static TaskContext currentOrNull() {
    return CURRENT.get();
  }

  /**
   * Returns the context of the calling task thread.
   *
   * @return the context
   * @throws IllegalStateException outside a task
   */
  public static TaskContext context() {
    return task();
  }

  static RunningTask task() {
    RunningTask task = CURRENT.get();
    if (task == null) {
      throw new IllegalStateException("TaskContext.current() is available only inside a task running on a pool worker");
    }
    return task;
  }

  /** Starts a task whose random base is given. */
  void begin(long base) {
    this.taskBase = base;
    this.randomBase = base;
    this.random = null;
  }

  /** Moves to item {@code offset} of a chunk. */
  void item(int offset) {
    randomBase = TaskSeeds.itemBase(taskBase, offset);
    random = null;
  }

  /** Ends the task: leaves its group of parallel tasks, if it joined one. */
  void end() {
    if (member != null) {
      worker.group.leave(member);
      member = null;
    }
  }

  public WorkerContext worker() {
    return worker;
  }

  @Override
  public int rank() {
    return worker.rank;
  }

  @Override
  public int worldSize() {
    return worker.worldSize;
  }

  @Override
  public String host() {
    return worker.host;
  }

  @Override
  public int workerIndex() {
    return worker.workerIndex;
  }

  @Override
  public int workers() {
    return worker.workers;
  }

  @Override
  @SuppressWarnings("unchecked")
  public <S> S workerState() {
    return (S) worker.state;
  }

  @Override
  public RandomGenerator random() {
    if (random == null) {
      random = new SplittableRandom(TaskSeeds.mix(randomBase));
    }
    return random;
  }

  @Override
  public WorkerComm workerComm(Duration joinTimeout) {
    if (member == null) {
      member = worker.group.join(joinTimeout);
    }
    return member;
  }

  @Override
  public String toString() {
    return "TaskContext[rank=" + rank() + ", worker=" + workerIndex() + " of " + workers() + ", host=" + host() + "]";
  }
}
