package org.jmpipool;

import org.jmpipool.internal.JobContext;

/**
 * Entry points of jmpipool.
 *
 * <p>A program started by the launcher ({@code bin/jmpipool -n 8 com.acme.Main args...}) runs on
 * rank 0 and gets the job's executor here; the other ranks serve its tasks:
 *
 * <pre>{@code
 * public static void main(String[] args) throws Exception {
 *   MpiPoolExecutor pool = Jmpipool.executor();
 *   double sum = pool.map(Model::simulate, parameters).stream().mapToDouble(d -> d).sum();
 * }
 * }</pre>
 */
public final class Jmpipool {

  private Jmpipool() {
  }

  /**
   * Returns the executor of the job this program was launched in. The launcher shuts it down when
   * the program's main method returns; the program does not need to close it.
   *
   * @return the job's executor
   * @throws IllegalStateException when this JVM was not started by the jmpipool launcher
   */
  public static MpiPoolExecutor executor() {
    return JobContext.executor();
  }
}
