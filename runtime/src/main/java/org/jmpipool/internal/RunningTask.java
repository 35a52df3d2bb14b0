package org.jmpipool.internal;

import java.time.Duration;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.jmpipool.TaskContext;
import org.jmpipool.WorkerComm;

/**
 * The {@link TaskContext} of a task thread: its worker's context, plus what belongs to the task
 * running now (its random seed, its parallel-task membership).
 */
public final class RunningTask implements TaskContext {

  private static final ThreadLocal<RunningTask> CURRENT = new ThreadLocal<>();
  /** Spreads task indexes over the seed space (the golden-ratio increment of SplitMix64). */
  private static final long INDEX_STEP = 0x9E3779B97F4A7C15L;

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
  static boolean isBound() {
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

  /**
   * The seed base of task {@code index} of a run seeded with {@code seed}: item {@code j} of a
   * chunk starting at that index draws from {@code mix(base + j * step)}.
   */
  static long randomBase(long seed, long index) {
    return seed + index * INDEX_STEP;
  }

  /** Starts a task whose random base is given. */
  void begin(long base) {
    this.taskBase = base;
    this.randomBase = base;
    this.random = null;
  }

  /** Moves to item {@code offset} of a chunk. */
  void item(int offset) {
    randomBase = taskBase + offset * INDEX_STEP;
    random = null;
  }

  /** Ends the task: leaves its group of parallel tasks, if it joined one. */
  void end() {
    if (member != null) {
      worker.group.leave(member);
      member = null;
    }
  }

  WorkerContext worker() {
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
      random = new SplittableRandom(mix64(randomBase));
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

  /** SplitMix64's finalizer: neighbouring bases give unrelated seeds. */
  private static long mix64(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  @Override
  public String toString() {
    return "TaskContext[rank=" + rank() + ", worker=" + workerIndex() + " of " + workers() + ", host=" + host() + "]";
  }
}
