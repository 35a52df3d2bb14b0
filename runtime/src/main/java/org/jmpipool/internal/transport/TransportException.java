package org.jmpipool.internal.transport;

/**
 * A failure of the transport; the job cannot go on after it.
 *
 * <p>Threads: any (immutable).
 */
public final class TransportException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what failed
   */
  public TransportException(String message) {
    super(message);
  }

  /**
   * Creates the exception.
   *
   * @param message what failed
   * @param cause the underlying failure
   */
  public TransportException(String message, Throwable cause) {
    super(message, cause);
  }
}
