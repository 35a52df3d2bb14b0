package org.jmpipool.internal;

import java.nio.file.Path;
import java.util.concurrent.CompletionException;
import org.jmpipool.internal.transport.MpiBindings;
import org.jmpipool.internal.transport.MpiTransport;
import org.jmpipool.internal.transport.RelayLink;
import org.jmpipool.internal.transport.Transport;
import org.jmpipool.internal.transport.TransportException;

/**
 * The main class of a worker started by a spawning master ({@code Jmpipool.spawn}). It serves
 * the master's tasks until told to stop, and ends at once if the master's JVM goes away.
 * {@code --check} only verifies that the worker JVM starts and finds the MPI bindings, so that a
 * bad JVM option or classpath is reported before MPI is asked to start processes.
 * {@code --relay SOCKET} makes it a rank of the MPI job of a pool on other hosts: rank 0 relays
 * between the master's socket and the workers ({@link PoolRelay}), the others serve tasks.
 *
 * <p>Threads: the worker JVM's main thread; a daemon thread watches the master's JVM on its host.
 */
public final class SpawnedWorker {

  /** What {@code --check} prints when the worker JVM is usable. */
  static final String READY = "jmpipool spawned worker: ready";
  /** The system property carrying the master's process id. */
  static final String PARENT_PID_PROPERTY = "jmpipool.parent.pid";
  /** The system property carrying the master's host name: its process id means nothing elsewhere. */
  static final String PARENT_HOST_PROPERTY = "jmpipool.parent.host";
  /** The option, followed by the master's socket, of the ranks of a pool on other hosts. */
  static final String RELAY_OPTION = "--relay";

  private SpawnedWorker() {
  }

  /**
   * Runs a spawned worker.
   *
   * @param args empty, {@code --check}, or {@code --relay SOCKET}
   */
  public static void main(String[] args) {
    if (args.length == 1 && args[0].equals("--check")) {
      check();
      return;
    }
    endWithParent();
    if (args.length == 2 && args[0].equals(RELAY_OPTION)) {
      Bootstrap.Started rank = Bootstrap.start(MpiTransport::joinWorld, "pool on other hosts: ");
      System.exit(rank.transport().rank() == 0 ? relay(rank, Path.of(args[1]))
          : Bootstrap.serveTasks(rank.comm(), rank.transport(), rank.codec()));
    }
    Bootstrap.Started worker = Bootstrap.start(MpiTransport::joinParent, "spawned worker: ");
    System.exit(Bootstrap.serveTasks(worker.comm(), worker.transport(), worker.codec()));
  }

  private static int relay(Bootstrap.Started rank, Path socket) {
    RelayLink master;
    try {
      master = RelayLink.connect(socket, rank.transport().size());
    } catch (TransportException e) {
      System.err.println("jmpipool: relay of a pool on other hosts: " + e.getMessage());
      rank.transport().abort(Bootstrap.EXIT_FAILED);
      return Bootstrap.EXIT_FAILED;
    }
    try (master) {
      rank.comm().run(new PoolRelay(rank.transport(), master)).join();
      return Bootstrap.EXIT_OK;
    } catch (CompletionException e) {
      return Bootstrap.EXIT_FAILED;
    }
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

  /**
   * A worker whose master is gone has nobody to serve; MPI would not tell it. On the master's
   * host its process is watched; elsewhere the heartbeats tell, after their timeout.
   */
  private static void endWithParent() {
    String parent = System.getProperty(PARENT_PID_PROPERTY);
    if (parent != null && Transport.localHostName().equals(System.getProperty(PARENT_HOST_PROPERTY))) {
      ProcessHandle.of(Long.parseLong(parent)).ifPresentOrElse(
          master -> master.onExit().thenRun(() -> Runtime.getRuntime().halt(Bootstrap.EXIT_FAILED)),
          () -> Runtime.getRuntime().halt(Bootstrap.EXIT_FAILED));
    }
  }
}
