package org.jmpipool;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

/**
 * The result of an asynchronous call of an {@link MpiPool}, like Python's
 * {@code multiprocessing.pool.AsyncResult}. Every result becomes ready: with a value, with the
 * task's failure, or cancelled when the pool is terminated first.
 *
 * @param <T> the value's type
 */
public interface AsyncResult<T> {

  /**
   * Waits for the result and returns it.
   *
   * @return the value
   * @throws ExecutionException when the call failed; its cause is the task's exception (rebuilt
   *     from the worker, with a {@link RemoteOrigin})
   * @throws java.util.concurrent.CancellationException when the pool was terminated before the
   *     call ran
   * @throws InterruptedException when interrupted while waiting
   */
  T get() throws InterruptedException, ExecutionException;

  /**
   * Waits up to a timeout for the result and returns it.
   *
   * @param timeout how long to wait
   * @return the value
   * @throws TimeoutException when the result is not ready in time
   * @throws ExecutionException when the call failed
   * @throws java.util.concurrent.CancellationException when the pool was terminated before the
   *     call ran
   * @throws InterruptedException when interrupted while waiting
   */
  T get(Duration timeout) throws InterruptedException, ExecutionException, TimeoutException;

  /**
   * Waits up to a timeout for the result to be ready (Python's {@code wait}).
   *
   * @param timeout how long to wait
   * @return whether it is ready
   * @throws InterruptedException when interrupted while waiting
   */
  boolean await(Duration timeout) throws InterruptedException;

  /**
   * Returns whether the call has completed, one way or another.
   *
   * @return whether the result is ready
   */
  boolean ready();

  /**
   * Returns whether the call completed without failing.
   *
   * @return whether it succeeded
   * @throws IllegalStateException when the result is not ready yet
   */
  boolean successful();

  /**
   * Returns a future of the same result, for composing with other futures.
   *
   * @return the future; completing or cancelling it does not affect this result
   */
  CompletableFuture<T> toCompletableFuture();
}
