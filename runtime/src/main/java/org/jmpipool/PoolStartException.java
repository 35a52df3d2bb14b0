package org.jmpipool;

/**
 * A pool's workers could not be started: the worker JVM does not start (a bad option, a wrong
 * classpath), MPI cannot start processes, or they did not all report within the start timeout.
 * The message says which, with the worker JVM's own message when there is one.
 */
public class PoolStartException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what went wrong
   */
  public PoolStartException(String message) {
    super(message);
  }

  /**
   * Creates the exception.
   *
   * @param message what went wrong
   * @param cause the underlying failure
   */
  public PoolStartException(String message, Throwable cause) {
    super(message, cause);
  }
}
