package org.jmpipool.internal;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A future of the pool, and of every stage that depends on one. Results complete futures on the
 * communication thread (large ones on a decoder thread), so non-async dependent stages run there;
 * a stage that waited on the communication thread for another result of the pool would wait
 * forever, since only that thread can deliver it. Such a wait fails at once instead.
 */
class PoolFuture<T> extends CompletableFuture<T> {

  private static final long BRIEF_WAIT_NANOS = TimeUnit.MICROSECONDS.toNanos(200);

  @Override
  public T get() throws InterruptedException, ExecutionException {
    awaitBriefly();
    return super.get();
  }

  @Override
  public T get(long timeout, TimeUnit unit) throws InterruptedException, ExecutionException, TimeoutException {
    awaitBriefly();
    return super.get(timeout, unit);
  }

  @Override
  public T join() {
    awaitBriefly();
    return super.join();
  }

  /**
   * Polls for a while before the caller blocks: a result is often a round trip of microseconds
   * away, and waking a parked thread on a busy machine costs more than that.
   */
  private void awaitBriefly() {
    refuseOnCommunicationThread();
    long start = System.nanoTime();
    while (!isDone() && System.nanoTime() - start < BRIEF_WAIT_NANOS) {
      Thread.yield();
    }
  }

  @Override
  public <U> CompletableFuture<U> newIncompleteFuture() {
    return new PoolFuture<>();
  }

  private void refuseOnCommunicationThread() {
    if (!isDone() && CommunicationThread.isCurrent()) {
      throw new IllegalStateException("a non-async stage of a jmpipool future waits for another jmpipool"
          + " result; such stages run on the pool's communication thread, which alone delivers results:"
          + " use the *Async variant (thenApplyAsync...) or thenCompose instead");
    }
  }
}
