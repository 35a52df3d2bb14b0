package org.jmpipool.internal.wire;

/**
 * What a task frame's payload holds, and so how a worker runs it.
 *
 * <p>Threads: any.
 */
public enum TaskKind {
  /** A {@link java.util.concurrent.Callable}; the result is its value. */
  CALL,
  /** A {@link Runnable}; the result is {@code null}. */
  RUN,
  /** A function and its argument; the result is the function's value. */
  APPLY,
  /** A function and a chunk of inputs; the result is the list of values, possibly cut by a failure. */
  CHUNK,
  /**
   * A pool's initializer, a {@link java.util.concurrent.Callable}: runs first on its worker, its
   * value kept as the worker's state; the result carries nothing.
   */
  INIT;

  private static final TaskKind[] VALUES = values();

  public static TaskKind of(byte flags) {
    return VALUES[flags];
  }

  public byte flags() {
    return (byte) ordinal();
  }
}
