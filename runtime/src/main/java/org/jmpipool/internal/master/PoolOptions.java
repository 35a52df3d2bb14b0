package org.jmpipool.internal.master;

import java.util.concurrent.Callable;

/**
 * What every kind of pool is built with, besides its workers.
 *
 * <p>Threads: any (immutable).
 *
 * @param threadsPerWorker how many tasks each worker runs at once
 * @param initializer runs once on every worker before its first task, or {@code null}
 * @param seed seeds the tasks' random generators
 */
public record PoolOptions(int threadsPerWorker, Callable<?> initializer, long seed) {

  public PoolOptions {
    if (threadsPerWorker < 1) {
      throw new IllegalArgumentException("threads per worker must be at least 1, not " + threadsPerWorker);
    }
  }
}
