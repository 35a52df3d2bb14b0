package org.jmpipool.examples;

import java.util.SplittableRandom;
import java.util.stream.LongStream;
import org.jmpipool.Jmpipool;
import org.jmpipool.MapResults;
import org.jmpipool.MpiPoolExecutor;

/**
 * Estimates pi by throwing random points at the unit square: each task counts the points of one
 * batch that fall in the quarter circle. Every batch has its own seed, so the estimate does not
 * depend on how batches are scheduled.
 *
 * <pre>bin/jmpipool -n 4 org.jmpipool.examples.MonteCarloPi [samples]</pre>
 */
public final class MonteCarloPi {

  private static final long BATCH = 1_000_000;

  private MonteCarloPi() {
  }

  /**
   * Runs the estimate.
   *
   * @param args optionally the number of samples (default 100 million)
   */
  public static void main(String[] args) {
    long samples = args.length > 0 ? Long.parseLong(args[0]) : 100_000_000L;
    long batches = Math.max(1, (samples + BATCH - 1) / BATCH);
    MpiPoolExecutor pool = Jmpipool.executor();
    long start = System.nanoTime();
    long inside = 0;
    try (MapResults<Long> counts = pool.map(MonteCarloPi::countInside, LongStream.range(0, batches).boxed().toList())) {
      for (long count : counts) {
        inside += count;
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    double pi = 4.0 * inside / (batches * BATCH);
    System.out.printf("pi ~ %.6f (error %.1e) from %,d samples on %d workers in %.2f s%n",
        pi, Math.abs(pi - Math.PI), batches * BATCH, pool.workers(), seconds);
  }

  static long countInside(long batch) {
    SplittableRandom random = new SplittableRandom(0x9E3779B97F4A7C15L * (batch + 1));
    long inside = 0;
    for (long i = 0; i < BATCH; i++) {
      double x = random.nextDouble();
      double y = random.nextDouble();
      if (x * x + y * y <= 1.0) {
        inside++;
      }
    }
    return inside;
  }
}
