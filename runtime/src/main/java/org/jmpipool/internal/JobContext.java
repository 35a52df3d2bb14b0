package org.jmpipool.internal;

import org.jmpipool.MpiPoolExecutor;

/** The executor of the job this JVM was launched in, installed by {@link Bootstrap}. */
public final class JobContext {

  private static volatile MpiPoolExecutor executor;
  private static volatile int workerRank = -1;

  private JobContext() {
  }

  static void install(MpiPoolExecutor jobExecutor) {
    executor = jobExecutor;
  }

  static void markWorker(int rank) {
    workerRank = rank;
  }

  /**
   * Returns the job's executor.
   *
   * @return the executor
   * @throws IllegalStateException when this JVM was not started by the launcher
   */
  public static MpiPoolExecutor executor() {
    MpiPoolExecutor current = executor;
    if (current == null && workerRank >= 0) {
      throw new IllegalStateException("Jmpipool.executor() is for the program on rank 0; this is worker rank "
          + workerRank + ", where tasks run, and a task cannot submit tasks");
    }
    if (current == null) {
      throw new IllegalStateException("Jmpipool.executor() works in programs started by the jmpipool launcher"
          + " (bin/jmpipool -n N MAIN_CLASS ...); this JVM was not started that way");
    }
    return current;
  }
}
