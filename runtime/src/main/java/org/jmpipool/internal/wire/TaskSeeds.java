package org.jmpipool.internal.wire;

/**
 * How tasks draw their random numbers, agreed by master and workers: the master gives each task a
 * base from the pool's (or map's) seed and the task's index; the worker derives each item's seed
 * from it. An item's numbers depend only on the seed and its index, never on chunking,
 * scheduling or which worker ran it.
 *
 * <p>Threads: any (pure functions).
 */
public final class TaskSeeds {

  /** Spreads indexes over the seed space (the golden-ratio increment of SplitMix64). */
  private static final long INDEX_STEP = 0x9E3779B97F4A7C15L;

  private TaskSeeds() {
  }

  /**
   * The base of task {@code index} of a run seeded with {@code seed}, which is also the base of
   * its first item.
   */
  public static long taskBase(long seed, long index) {
    return seed + index * INDEX_STEP;
  }

  /** The base of item {@code offset} of a chunk whose first item's base is {@code taskBase}. */
  public static long itemBase(long taskBase, int offset) {
    return taskBase + offset * INDEX_STEP;
  }

  /**
   * SplitMix64's finalizer: neighbouring values give unrelated ones. The seed of a task's or an
   * item's random generator is its base, mixed.
   */
  public static long mix(long base) {
    long z = base;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
