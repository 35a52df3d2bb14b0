package org.jmpipool;

import java.util.concurrent.RejectedExecutionException;

/**
 * The pool can run no more tasks: one of its workers ended unexpectedly (killed, crashed, or a
 * task called {@code System.exit}). Every task the pool held fails with this exception, and so
 * does every later submission; {@link MpiPoolExecutor#workers()} then reads 0. The message names
 * the worker and what happened to it.
 */
public class BrokenPoolException extends RejectedExecutionException {
  private static final long serialVersionUID = 1L;

  /** The rank of the worker that broke the pool, or -1 when not known. */
  private final int workerRank;

  /**
   * Creates the exception.
   *
   * @param message what broke the pool
   * @param workerRank the rank of the worker that broke it, or -1 when not known
   * @param cause the underlying failure, or {@code null}
   */
  public BrokenPoolException(String message, int workerRank, Throwable cause) {
    super(message, cause);
    this.workerRank = workerRank;
  }

  /**
   * Returns the rank of the worker that broke the pool.
   *
   * @return the worker's rank, or -1 when not known
   */
  public int workerRank() {
    return workerRank;
  }
}
