package org.jmpipool;

/**
 * A task, its argument or its result could not be serialized or deserialized.
 *
 * <p>It fails only the future of the task concerned; the pool keeps working. The message names the
 * offending class and the side (master or worker) where the failure happened.
 */
public final class TaskSerializationException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what could not be (de)serialized, naming the class
   * @param cause the serializer's exception, or {@code null}
   */
  public TaskSerializationException(String message, Throwable cause) {
    super(message, cause);
  }
}
