package org.jmpipool;

import java.util.Optional;

/**
 * Names the worker on which a task failed. It is attached as a suppressed exception to every
 * exception that a task threw on a worker, so printed stack traces show it
 * ({@code Suppressed: org.jmpipool.RemoteOrigin: thrown by a task on worker rank 2 (host n1)}).
 */
public final class RemoteOrigin extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The rank of the worker. */
  private final int workerRank;
  /** The host of the worker. */
  private final String host;

  /**
   * Creates the marker.
   *
   * @param workerRank the MPI rank of the worker
   * @param host the worker's host name
   */
  public RemoteOrigin(int workerRank, String host) {
    super("thrown by a task on worker rank " + workerRank + " (host " + host + ")", null, false, false);
    this.workerRank = workerRank;
    this.host = host;
  }

  /**
   * Returns the MPI rank of the worker on which the task failed.
   *
   * @return the MPI rank of the worker on which the task failed
   */
  public int workerRank() {
    return workerRank;
  }

  /**
   * Returns the host name of the worker on which the task failed.
   *
   * @return the host name of the worker on which the task failed
   */
  public String host() {
    return host;
  }

  /**
   * Finds the origin attached to an exception that came from a worker.
   *
   * @param failure an exception, typically the cause of an {@code ExecutionException}
   * @return the origin, or empty when the exception did not come from a worker
   */
  public static Optional<RemoteOrigin> of(Throwable failure) {
    for (Throwable suppressed : failure.getSuppressed()) {
      if (suppressed instanceof RemoteOrigin) {
        return Optional.of((RemoteOrigin) suppressed);
      }
    }
    return Optional.empty();
  }
}
