package org.jmpipool.internal.master;

import java.util.Arrays;
import java.util.function.IntPredicate;

/**
 * Which worker gets the next task, and how many each may hold. A task goes to the worker holding
 * the fewest, ties to the lowest index: under load tasks spread evenly, and a caller waiting for
 * each result in turn keeps one worker awake while the others idle.
 *
 * <p>A worker's credit (the tasks it may hold) follows its measured task time: enough tasks to
 * cover a round trip for each of its task threads, so that no thread waits for its next task,
 * and no more, so that long tasks stay balanced across workers.
 *
 * <p>Threads: the master's communication thread only.
 */
final class DispatchPolicy {

  /** A worker holds tasks worth about this much work per task thread, so a round trip never starves it. */
  static final long CREDIT_COVER_NANOS = 1_000_000;
  /** The fewest tasks a worker may hold per task thread: one running, one waiting. */
  static final int MIN_CREDIT = 2;
  /** The most tasks a worker may hold per task thread, however short they are. */
  static final int MAX_CREDIT = 1024;

  private final int threadsPerWorker;
  private final int[] holding;
  private final int[] credit;
  /** Per worker, the moving average of the time per task, or -1 before its first result. */
  private final double[] averageNanos;

  DispatchPolicy(int workers, int threadsPerWorker) {
    this.threadsPerWorker = threadsPerWorker;
    this.holding = new int[workers];
    this.credit = new int[workers];
    this.averageNanos = new double[workers];
    Arrays.fill(credit, MIN_CREDIT * threadsPerWorker);
    Arrays.fill(averageNanos, -1);
  }

  /**
   * Picks the worker for the next task: the least loaded of those with credit left that accept
   * more now.
   *
   * @param accepting whether a worker can take more now (its outgoing batch is not full, say)
   * @return the worker's index, or -1 when none can take a task
   */
  int pick(IntPredicate accepting) {
    int best = -1;
    for (int worker = 0; worker < holding.length; worker++) {
      if (holding[worker] < credit[worker] && (best < 0 || holding[worker] < holding[best]) && accepting.test(worker)) {
        best = worker;
      }
    }
    return best;
  }

  /** A task went to a worker (picked, or pinned to it). */
  void sent(int worker) {
    holding[worker]++;
  }

  /**
   * A worker answered one of its tasks.
   *
   * @param executionNanos the time the task ran, or a negative number when it never started
   */
  void answered(int worker, long executionNanos) {
    holding[worker]--;
    if (executionNanos < 0) {
      return;
    }
    averageNanos[worker] = averageNanos[worker] < 0 ? executionNanos
        : 0.8 * averageNanos[worker] + 0.2 * executionNanos;
    double cover = CREDIT_COVER_NANOS / Math.max(averageNanos[worker], 1.0);
    credit[worker] = (int) Math.max(MIN_CREDIT, Math.min(MAX_CREDIT, Math.ceil(cover) + 1)) * threadsPerWorker;
  }

  /** The workers hold nothing any more (the pool broke and failed what they held). */
  void forgetHeld() {
    Arrays.fill(holding, 0);
  }

  /** Returns how many tasks a worker holds. */
  int holding(int worker) {
    return holding[worker];
  }

  /** Returns how many tasks a worker may hold. */
  int credit(int worker) {
    return credit[worker];
  }
}
