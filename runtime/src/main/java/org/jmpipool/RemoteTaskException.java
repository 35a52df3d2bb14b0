package org.jmpipool;

/**
 * Stands for an exception thrown by a task on a worker whose class could not be rebuilt on the
 * master (the class is missing here, or the exception could not be serialized).
 *
 * <p>Its message is the original {@code toString()}, its stack trace the remote stack trace, its
 * cause the remote cause (rebuilt the same way), and {@link #remoteClassName()} the original
 * class. Like every exception that reaches the master from a task, it carries a suppressed
 * {@link RemoteOrigin} naming the worker.
 */
public final class RemoteTaskException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The class of the exception on the worker. */
  private final String remoteClassName;

  /**
   * Creates the exception.
   *
   * @param remoteClassName the fully qualified name of the original exception class
   * @param remoteMessage the original message, or {@code null}
   */
  public RemoteTaskException(String remoteClassName, String remoteMessage) {
    super(remoteMessage == null ? remoteClassName : remoteClassName + ": " + remoteMessage);
    this.remoteClassName = remoteClassName;
  }

  /**
   * Returns the fully qualified name of the exception class thrown on the worker.
   *
   * @return the fully qualified name of the exception class thrown on the worker
   */
  public String remoteClassName() {
    return remoteClassName;
  }
}
