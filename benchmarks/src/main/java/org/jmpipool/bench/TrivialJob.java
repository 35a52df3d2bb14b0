package org.jmpipool.bench;

import java.util.List;
import java.util.stream.IntStream;
import org.jmpipool.Jmpipool;

/**
 * The smallest useful job, for measuring the fixed cost of a run: a map over 10 items, as the
 * peer's shared/bench/mpi4py_trivial.py. {@code time bin/jmpipool -n 3 org.jmpipool.bench.TrivialJob}
 */
public final class TrivialJob {

  private TrivialJob() {
  }

  /**
   * Runs the job.
   *
   * @param args ignored
   */
  public static void main(String[] args) {
    List<Integer> results = Jmpipool.executor().map((Integer x) -> x + 1, IntStream.range(0, 10).boxed().toList()).toList();
    if (!results.equals(IntStream.range(1, 11).boxed().toList())) {
      throw new IllegalStateException("wrong results: " + results);
    }
  }
}
