package org.jmpipool.internal.master;

import java.util.Arrays;

/**
 * Which worker gets the next task, and how many each may hold. A task goes to the worker holding
 * the fewest, ties to the lowest index: under load tasks spread evenly, and a caller waiting for
 * each result in turn keeps one worker awake while the others idle.
 *
 * <p>A worker's credit (the tasks it may hold) follows its measured task time: enough tasks to
 * cover a round trip for each of its task threads, so that no thread waits for its next task,
 * and no more, so that long tasks stay balanced across workers.
 *
 * <p>The workers that may take a task now (credit left, not {@linkplain #pause paused}) sit in a
 * binary heap ordered by (tasks held, index), each knowing its place in it: picking is constant
 * time, and a task sent or answered costs a logarithm of the number of workers, instead of a
 * look at every worker per task.
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
  private final boolean[] paused;
  /** The workers that may take a task now, the heap's top first. */
  private final int[] heap;
  private int heapSize;
  /** Per worker, its place in {@link #heap}, or -1 when it may take no task now. */
  private final int[] place;

  DispatchPolicy(int workers, int threadsPerWorker) {
    this.threadsPerWorker = threadsPerWorker;
    this.holding = new int[workers];
    this.credit = new int[workers];
    this.averageNanos = new double[workers];
    this.paused = new boolean[workers];
    this.heap = new int[workers];
    this.place = new int[workers];
    Arrays.fill(credit, MIN_CREDIT * threadsPerWorker);
    Arrays.fill(averageNanos, -1);
    rebuild();
  }

  /**
   * Picks the worker for the next task: the least loaded of those with credit left, not paused.
   *
   * @return the worker's index, or -1 when none can take a task
   */
  int pick() {
    return heapSize > 0 ? heap[0] : -1;
  }

  /**
   * How many of the waiting tasks the {@linkplain #pick picked} worker may take at once: its equal
   * share of them among the workers that may take some, within its credit, and at least one.
   */
  int share(int worker, int waitingTasks) {
    return Math.max(1, Math.min(credit[worker] - holding[worker], waitingTasks / Math.max(heapSize, 1)));
  }

  /** A task went to a worker (picked, or pinned to it). */
  void sent(int worker) {
    holding[worker]++;
    update(worker);
  }

  /**
   * A worker answered one of its tasks.
   *
   * @param executionNanos the time the task ran, or a negative number when it never started
   */
  void answered(int worker, long executionNanos) {
    holding[worker]--;
    if (executionNanos >= 0) {
      averageNanos[worker] = averageNanos[worker] < 0 ? executionNanos
          : 0.8 * averageNanos[worker] + 0.2 * executionNanos;
      double cover = CREDIT_COVER_NANOS / Math.max(averageNanos[worker], 1.0);
      credit[worker] = (int) Math.max(MIN_CREDIT, Math.min(MAX_CREDIT, Math.ceil(cover) + 1)) * threadsPerWorker;
    }
    update(worker);
  }

  /** A worker takes no task until {@link #resume resumed}, whatever its credit (its outgoing batch is full, say). */
  void pause(int worker) {
    paused[worker] = true;
    update(worker);
  }

  /** A paused worker takes tasks again, as its credit allows. */
  void resume(int worker) {
    paused[worker] = false;
    update(worker);
  }

  /** The workers hold nothing any more (the pool broke and failed what they held). */
  void forgetHeld() {
    Arrays.fill(holding, 0);
    rebuild();
  }

  /** Returns how many tasks a worker holds. */
  int holding(int worker) {
    return holding[worker];
  }

  /** Returns how many tasks a worker may hold. */
  int credit(int worker) {
    return credit[worker];
  }

  private boolean mayTakeOne(int worker) {
    return !paused[worker] && holding[worker] < credit[worker];
  }

  private void rebuild() {
    Arrays.fill(place, -1);
    heapSize = 0;
    for (int worker = 0; worker < holding.length; worker++) {
      update(worker);
    }
  }

  /** Puts a worker where its load now places it: in the heap, moved within it, or out of it. */
  private void update(int worker) {
    int at = place[worker];
    if (!mayTakeOne(worker)) {
      if (at >= 0) {
        int last = heap[--heapSize];
        place[worker] = -1;
        if (last != worker) {
          put(last, at);
          siftUp(at);
          siftDown(place[last]);
        }
      }
      return;
    }
    if (at < 0) {
      at = heapSize++;
      put(worker, at);
    }
    siftUp(at);
    siftDown(place[worker]);
  }

  private boolean before(int worker, int other) {
    return holding[worker] < holding[other] || holding[worker] == holding[other] && worker < other;
  }

  private void siftUp(int at) {
    int worker = heap[at];
    while (at > 0) {
      int parent = (at - 1) >>> 1;
      if (!before(worker, heap[parent])) {
        break;
      }
      put(heap[parent], at);
      at = parent;
    }
    put(worker, at);
  }

  private void siftDown(int at) {
    int worker = heap[at];
    while (true) {
      int child = 2 * at + 1;
      if (child >= heapSize) {
        break;
      }
      if (child + 1 < heapSize && before(heap[child + 1], heap[child])) {
        child++;
      }
      if (!before(heap[child], worker)) {
        break;
      }
      put(heap[child], at);
      at = child;
    }
    put(worker, at);
  }

  private void put(int worker, int at) {
    heap[at] = worker;
    place[worker] = at;
  }
}
