package org.jmpipool.internal.job;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jmpipool.internal.master.DistributedExecutor;

/**
 * How a launched job ends on SIGTERM (a scheduler's time limit, {@code scancel}, or the user) or
 * SIGINT: no task starts any more, tasks not started fail with a {@link
 * java.util.concurrent.CancellationException} saying why, running tasks get a bounded time to
 * finish (then are interrupted), the workers stop in order, and a summary says how many tasks
 * were done, running, and never started. The caller then exits with 128 + the signal's number.
 *
 * <p>The bound, {@code jmpipool.signalGrace} seconds (default 10), must end before the
 * scheduler's SIGKILL (SLURM's KillWait, 30 s by default).
 *
 * <p>Threads: the thread that handles the signal ({@link ExitWatch}); it waits for the pools, which
 * their own threads end.
 */
public final class SignalDrain {

  /** The system property bounding, in seconds, how long running tasks may take after a signal. */
  static final String GRACE_PROPERTY = "jmpipool.signalGrace";
  private static final long DEFAULT_GRACE_SECONDS = 10;
  /** How long the workers get to give back their queued tasks, and to stop at the end. */
  private static final long HANDSHAKE_SECONDS = 5;

  private SignalDrain() {
  }

  /** Returns the grace period in seconds. */
  public static long graceSeconds() {
    String value = System.getProperty(GRACE_PROPERTY);
    try {
      return value == null || value.isBlank() ? DEFAULT_GRACE_SECONDS : Math.max(0, Long.parseLong(value.trim()));
    } catch (NumberFormatException e) {
      System.err.println("jmpipool: " + GRACE_PROPERTY + " must be whole seconds, not '" + value + "'; using "
          + DEFAULT_GRACE_SECONDS);
      return DEFAULT_GRACE_SECONDS;
    }
  }

  /**
   * Ends the pools after a signal and prints the summary on standard error.
   *
   * @param signal the signal's name, such as {@code TERM}
   * @param pools the job's executors, the job's own last
   */
  public static void run(String signal, List<DistributedExecutor> pools) {
    long grace = graceSeconds();
    System.err.println("jmpipool: SIG" + signal + " received (a time limit, scancel, or the user): no new task starts;"
        + " running tasks get up to " + grace + " s to finish");
    String reason = "never started: the job received SIG" + signal + " and is ending";
    long neverStarted = 0;
    for (CompletableFuture<List<Runnable>> given : pools.stream().map(pool -> pool.stopHandingOut(reason)).toList()) {
      try {
        neverStarted += given.get(HANDSHAKE_SECONDS, TimeUnit.SECONDS).size();
      } catch (ExecutionException | TimeoutException e) {
        // A worker that does not answer keeps its tasks; they count as running.
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    long done = pools.stream().mapToLong(DistributedExecutor::tasksRun).sum();
    long running = pools.stream().mapToLong(DistributedExecutor::tasksHeld).sum();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(grace);
    for (DistributedExecutor pool : pools) {
      awaitQuietly(pool, deadline - System.nanoTime());
    }
    long interrupted = pools.stream().mapToLong(DistributedExecutor::tasksHeld).sum();
    for (DistributedExecutor pool : pools) {
      if (!pool.isTerminated()) {
        pool.shutdownNow();
        awaitQuietly(pool, TimeUnit.SECONDS.toNanos(HANDSHAKE_SECONDS));
      }
    }
    System.err.println("jmpipool: SIG" + signal + " summary: " + done + " tasks done, " + running
        + " running when it came (" + (running - interrupted) + " finished in time, " + interrupted + " interrupted), "
        + neverStarted + " never started (their futures fail with a CancellationException)");
  }

  private static void awaitQuietly(DistributedExecutor pool, long nanos) {
    try {
      pool.awaitTermination(Math.max(0, nanos), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
