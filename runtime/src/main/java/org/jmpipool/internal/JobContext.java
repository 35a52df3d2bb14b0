package org.jmpipool.internal;

import org.jmpipool.MpiPoolExecutor;

/** The executor of the job this JVM was launched in, installed by {@link Bootstrap}. */
public final class JobContext {

  private static volatile MpiPoolExecutor executor;

  private JobContext() {
  }

  static void install(MpiPoolExecutor jobExecutor) {
    executor = jobExecutor;
  }

  /**
   * Returns the job's executor.
   *
   * @return the executor
   * @throws IllegalStateException when this JVM was not started by the launcher
   */
  public static MpiPoolExecutor executor() {
    MpiPoolExecutor current = executor;
    if (current == null) {
      throw new IllegalStateException("Jmpipool.executor() works in programs started by the jmpipool launcher"
          + " (bin/jmpipool -n N MAIN_CLASS ...); this JVM was not started that way");
    }
    return current;
  }
}
