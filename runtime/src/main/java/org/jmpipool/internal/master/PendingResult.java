package org.jmpipool.internal.master;

import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jmpipool.AsyncResult;

/**
 * An {@link AsyncResult} over a future of its own, which the pool completes.
 *
 * <p>Threads: completed by the pool's result threads (or by the caller, for a result known at
 * once); read by any.
 */
final class PendingResult<T> implements AsyncResult<T> {

  private final CompletableFuture<T> future = new CompletableFuture<>();

  boolean complete(T value) {
    return future.complete(value);
  }

  boolean fail(Throwable failure) {
    return future.completeExceptionally(failure);
  }

  /** Makes the result ready and unsuccessful, if it is not ready; the pool was terminated. */
  void cancel(String why) {
    future.completeExceptionally(new CancellationException(why));
  }

  @Override
  public T get() throws InterruptedException, ExecutionException {
    return future.get();
  }

  @Override
  public T get(Duration timeout) throws InterruptedException, ExecutionException, TimeoutException {
    return future.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  @Override
  public boolean await(Duration timeout) throws InterruptedException {
    try {
      future.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (ExecutionException | CancellationException | TimeoutException e) {
      // Readiness is the answer, not the outcome.
    }
    return future.isDone();
  }

  @Override
  public boolean ready() {
    return future.isDone();
  }

  @Override
  public boolean successful() {
    if (!future.isDone()) {
      throw new IllegalStateException("the result is not ready yet: check ready() or wait with await() first");
    }
    return !future.isCompletedExceptionally();
  }

  @Override
  public CompletableFuture<T> toCompletableFuture() {
    return future.copy();
  }

  @Override
  public String toString() {
    return "AsyncResult[" + (!future.isDone() ? "pending" : successful() ? "successful" : "failed") + "]";
  }
}
