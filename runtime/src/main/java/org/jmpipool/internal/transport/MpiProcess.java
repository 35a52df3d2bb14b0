package org.jmpipool.internal.transport;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * MPI's life in this JVM: initialized once, by whichever pool needs it first (a launched rank,
 * or the first spawned pool of an embedding program, which makes this JVM an MPI singleton), and
 * finalized once, when the job ends or the JVM exits. Finalization is bounded: a JVM whose MPI
 * state is damaged (a spawn that never completed) still exits.
 *
 * <p>Threads: any: initialization, spawning and finalization are serialized by one lock.
 */
final class MpiProcess {

  /** {@code MPI_THREAD_MULTIPLE}, the same in every MPI library. */
  private static final int THREAD_MULTIPLE = 3;
  /** How long finalization may take before the JVM exits without it. */
  private static final long FINALIZE_MILLIS = 10_000;
  private static final Object LOCK = new Object();
  /** Spawning is collective over MPI_COMM_SELF: one spawn at a time. */
  private static final ReentrantLock SPAWN_LOCK = new ReentrantLock();
  private static final List<Runnable> BEFORE_FINALIZING = new CopyOnWriteArrayList<>();
  private static MpiBinding binding;
  private static boolean initialized;
  private static boolean finalizeAtExit;
  private static boolean finalized;
  private static String unusable;

  private MpiProcess() {
  }

  /**
   * Initializes MPI at thread level MULTIPLE unless already done.
   *
   * @param finalizeAtExit whether MPI is finalized when the JVM exits (an embedding JVM that
   *     spawns workers); launched ranks and spawned workers finalize when their pool ends, and
   *     must not at an abnormal exit, while their communication thread may still be inside MPI
   * @return the binding through which MPI is called in this JVM
   * @throws TransportException when MPI cannot be initialized or used
   */
  static MpiBinding initialize(boolean finalizeAtExit) {
    synchronized (LOCK) {
      checkUsable();
      if (!initialized) {
        try {
          MpiBinding chosen = MpiBindings.load();
          int provided = chosen.initThreadMultiple();
          if (provided < THREAD_MULTIPLE) {
            throw new TransportException("the MPI library provides thread level " + provided
                + ", jmpipool needs MPI_THREAD_MULTIPLE (" + THREAD_MULTIPLE + ")");
          }
          // Spawn failures must reach the caller as exceptions, not abort this JVM.
          chosen.setErrorsReturn(chosen.self());
          binding = chosen;
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
          throw new TransportException(bindingsProblem(e), e);
        }
        initialized = true;
      }
    }
    registerFinalizeAtExit(finalizeAtExit);
    return binding;
  }

  private static void registerFinalizeAtExit(boolean wanted) {
    synchronized (LOCK) {
      if (wanted && !finalizeAtExit) {
        finalizeAtExit = true;
        Runtime.getRuntime().addShutdownHook(new Thread(MpiProcess::finish, "jmpipool-mpi-finalize"));
      }
    }
  }

  static String bindingsProblem(Throwable e) {
    if (e instanceof NoClassDefFoundError) {
      return "Open MPI's Java bindings (mpi.jar, package mpi) are not on the classpath: add the jar of the"
          + " installed Open MPI (packaging/provision-mpi.sh installs it as org.open-mpi:mpi in ~/.m2)";
    }
    return "the Open MPI Java bindings (mpi.jar) do not match the native library libmpi_java, or it was not"
        + " found on java.library.path: " + e.getMessage() + "; run packaging/provision-mpi.sh";
  }

  /**
   * Finalizes MPI once; later calls do nothing. Waits at most {@link #FINALIZE_MILLIS}.
   */
  static void finish() {
    synchronized (LOCK) {
      if (!initialized || finalized) {
        return;
      }
    }
    BEFORE_FINALIZING.forEach(Runnable::run);
    synchronized (LOCK) {
      if (finalized) {
        return;
      }
      finalized = true;
      if (unusable != null) {
        return;
      }
    }
    Thread finalizer = new Thread(() -> {
      try {
        binding.finalizeMpi();
      } catch (TransportException e) {
        // The process is ending: nothing useful can be done with this.
      }
    }, "jmpipool-mpi-finalize-call");
    finalizer.setDaemon(true);
    finalizer.start();
    try {
      finalizer.join(FINALIZE_MILLIS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static Runnable beforeFinalizing(Runnable action) {
    BEFORE_FINALIZING.add(action);
    return () -> BEFORE_FINALIZING.remove(action);
  }

  /**
   * Takes the right to spawn, waiting at most the given time (an earlier spawn may be stuck).
   *
   * @throws TransportException when MPI is unusable or the time passed
   */
  static void lockSpawning(long timeoutNanos) {
    checkUsable();
    try {
      if (!SPAWN_LOCK.tryLock(timeoutNanos, TimeUnit.NANOSECONDS)) {
        checkUsable();
        throw new TransportException("another spawn of workers did not finish in time");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TransportException("interrupted while waiting to spawn workers", e);
    }
    try {
      checkUsable();
    } catch (TransportException e) {
      SPAWN_LOCK.unlock();
      throw e;
    }
  }

  static void unlockSpawning() {
    SPAWN_LOCK.unlock();
  }

  /**
   * Records that MPI can no longer be used in this JVM (a spawn never completed: the thread that
   * called it is still inside MPI). Later spawns fail at once, and MPI is not finalized.
   *
   * @param reason what happened
   */
  static void markUnusable(String reason) {
    synchronized (LOCK) {
      if (unusable == null) {
        unusable = reason;
      }
    }
  }

  private static void checkUsable() {
    synchronized (LOCK) {
      if (unusable != null) {
        throw new TransportException("MPI cannot be used any more in this JVM: " + unusable);
      }
      if (finalized) {
        throw new TransportException("MPI has already been finalized in this JVM");
      }
    }
  }
}
