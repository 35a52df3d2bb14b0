package org.jmpipool.internal;

import org.jmpipool.internal.transport.MpiBindings;
import org.jmpipool.internal.transport.MpiTransport;
import org.jmpipool.internal.transport.TransportException;

/**
 * The main class of a worker started by a spawning master ({@code Jmpipool.spawn}). It serves
 * the master's tasks until told to stop, and ends at once if the master's JVM goes away.
 * {@code --check} only verifies that the worker JVM starts and finds the MPI bindings, so that a
 * bad JVM option or classpath is reported before MPI is asked to start processes.
 *
 * <p>Threads: the worker JVM's main thread; a daemon thread watches the master's JVM.
 */
public final class SpawnedWorker {

  /** What {@code --check} prints when the worker JVM is usable. */
  static final String READY = "jmpipool spawned worker: ready";
  /** The system property carrying the master's process id. */
  static final String PARENT_PID_PROPERTY = "jmpipool.parent.pid";

  private SpawnedWorker() {
  }

  /**
   * Runs a spawned worker.
   *
   * @param args empty, or {@code --check}
   */
  public static void main(String[] args) {
    if (args.length == 1 && args[0].equals("--check")) {
      check();
      return;
    }
    endWithParent();
    Bootstrap.Started worker = Bootstrap.start(MpiTransport::joinParent, "spawned worker: ");
    System.exit(Bootstrap.serveTasks(worker.comm(), worker.transport(), worker.codec()));
  }

  private static void check() {
    try {
      MpiBindings.check();
    } catch (TransportException e) {
      System.err.println("jmpipool: the worker JVM cannot use MPI: " + e.getMessage());
      System.exit(Bootstrap.EXIT_UNUSABLE);
    } catch (LinkageError e) {
      System.err.println("jmpipool: the worker JVM cannot use MPI: " + e);
      System.exit(Bootstrap.EXIT_UNUSABLE);
    }
    System.out.println(READY);
  }

  /** A worker whose master is gone has nobody to serve; MPI would not tell it. */
  private static void endWithParent() {
    String parent = System.getProperty(PARENT_PID_PROPERTY);
    if (parent != null) {
      ProcessHandle.of(Long.parseLong(parent)).ifPresentOrElse(
          master -> master.onExit().thenRun(() -> Runtime.getRuntime().halt(Bootstrap.EXIT_FAILED)),
          () -> Runtime.getRuntime().halt(Bootstrap.EXIT_FAILED));
    }
  }
}
