package org.jmpipool.internal.master;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jmpipool.internal.loop.CommunicationThread;

/**
 * A future of the pool, and of every stage that depends on one. Non-async dependent stages run on
 * the thread that completes the future: the caller that decoded the result, the pool's decoder
 * thread, or, for outcomes known on the master (a cancellation, a broken pool, a task handed over
 * without serialization), the communication thread. A stage that waited on the communication
 * thread for another result of the pool would wait forever, since only that thread can deliver
 * it: such a wait fails at once instead.
 *
 * <p>Threads: any.
 */
class PoolFuture<T> extends CompletableFuture<T> {

  private static final long BRIEF_WAIT_NANOS = TimeUnit.MICROSECONDS.toNanos(200);
  /**
   * How long a caller that runs the communication loop's passes polls before it blocks: as long as
   * the communication thread itself would have polled for a result (it idles by the same bound),
   * so that the caller receives a result of a task of up to about that long itself, without a
   * wake-up.
   */
  private static final long HELPING_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(2);

  @Override
  public T get() throws InterruptedException, ExecutionException {
    awaitBriefly(Long.MAX_VALUE);
    return super.get();
  }

  @Override
  public T get(long timeout, TimeUnit unit) throws InterruptedException, ExecutionException, TimeoutException {
    awaitBriefly(unit.toNanos(timeout));
    return super.get(timeout, unit);
  }

  @Override
  public T join() {
    awaitBriefly(Long.MAX_VALUE);
    return super.join();
  }

  /**
   * Polls for a while before the caller blocks: a result is often a round trip of microseconds
   * away, and waking a parked thread on a busy machine costs more than that. Each poll runs a pass
   * of the pool's communication loop where this thread may ({@link CommunicationThread#help}), so
   * that the caller receives its result itself, else yields. Returns once the future is done or its
   * outcome waits to be decoded ({@link #outcomeWaiting()}), or the caller's own time ran out.
   *
   * @param timeoutNanos how long the caller is willing to wait in all
   */
  protected final void awaitBriefly(long timeoutNanos) {
    refuseOnCommunicationThread();
    CommunicationThread loop = communication();
    long start = System.nanoTime();
    long polling = Math.min(timeoutNanos, loop == null ? BRIEF_WAIT_NANOS : HELPING_WAIT_NANOS);
    boolean polled = false;
    while (!isDone() && !outcomeWaiting() && System.nanoTime() - start < polling) {
      polled = true;
      if (loop == null || !loop.help()) {
        Thread.yield();
      }
    }
    if (polled && loop != null && !isDone() && !outcomeWaiting()) {
      // This thread blocks now: the communication thread takes the passes over at once.
      loop.endHelp();
    }
  }

  /** Returns the communication thread of the pool whose outcome this future awaits, if any. */
  protected CommunicationThread communication() {
    return null;
  }

  /** Returns whether an outcome has arrived, still encoded, for the waiting caller to decode. */
  protected boolean outcomeWaiting() {
    return false;
  }

  @Override
  public <U> CompletableFuture<U> newIncompleteFuture() {
    return new PoolFuture<>();
  }

  private void refuseOnCommunicationThread() {
    if (!isDone() && CommunicationThread.isCurrent()) {
      throw new IllegalStateException("a non-async stage of a jmpipool future waits for another jmpipool"
          + " result on the pool's communication thread (its future was completed there: cancelled, or failed"
          + " on the master), which alone delivers results: use the *Async variant (thenApplyAsync...) or"
          + " thenCompose instead");
    }
  }
}
