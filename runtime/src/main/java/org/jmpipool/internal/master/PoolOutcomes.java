package org.jmpipool.internal.master;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The outcomes of a pool's tasks on their way from the communication thread, which only moves
 * bytes, to their futures: who decodes them, and when the pool has terminated. A caller waiting
 * for an outcome decodes it on its own thread ({@link #decodeHere}); one nobody waits for goes to
 * the pool's decoder thread ({@link #decodeLater}). The pool counts as terminated once it has
 * ended and every outcome that arrived is decoded, so every future is complete by then.
 *
 * <p>Threads: any.
 */
final class PoolOutcomes {

  private final CountDownLatch terminated = new CountDownLatch(1);
  /** One for the pool's end, one per outcome waiting to be decoded. */
  private final AtomicInteger holdingTermination = new AtomicInteger(1);
  /**
   * Decodes the outcomes that arrive while no caller waits for them; non-async stages of those
   * futures run on it. One thread, in arrival order, started when needed and ended after a few
   * idle seconds. A fork-join pool because a stage that waits on a CompletableFuture there
   * (allOf(...).join(), say) makes the pool start another thread for the outcomes queued behind
   * it, where a plain thread would wait for itself.
   */
  private final ForkJoinPool decoder = newDecoder();
  /** Whether the current thread is decoding an outcome of this pool, and so runs its stages. */
  private final ThreadLocal<Boolean> decodingHere = ThreadLocal.withInitial(() -> false);

  /**
   * Creates the outcomes of a pool.
   *
   * @param ended completes when the pool has ended (its workers stopped)
   */
  PoolOutcomes(CompletableFuture<Void> ended) {
    ended.whenComplete((ignored, failure) -> release());
  }

  private static ForkJoinPool newDecoder() {
    ForkJoinPool.ForkJoinWorkerThreadFactory threads = pool -> {
      ForkJoinWorkerThread thread = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
      thread.setName("jmpipool-decoder");
      return thread;
    };
    return new ForkJoinPool(1, threads, null, true, 0, 256, 1, null, 5, TimeUnit.SECONDS);
  }

  /** Counts an outcome waiting to be decoded: the pool terminates only once it is. */
  void hold() {
    holdingTermination.incrementAndGet();
  }

  /** Counts an outcome decoded, or the pool's end. */
  void release() {
    if (holdingTermination.decrementAndGet() == 0) {
      decoder.shutdown();
      terminated.countDown();
    }
  }

  /** Runs the decoding of an outcome nobody waits for on the pool's decoder thread, in arrival order. */
  void decodeLater(Runnable decoding) {
    try {
      decoder.execute(decoding);
    } catch (RejectedExecutionException | OutOfMemoryError noThread) {
      decoding.run();
    }
  }

  /** Runs the decoding of an outcome on the current thread, which then runs its non-async stages. */
  void decodeHere(Runnable decoding) {
    boolean outer = decodingHere.get();
    decodingHere.set(true);
    try {
      decoding.run();
    } finally {
      decodingHere.set(outer);
    }
  }

  /** Returns whether the current thread is decoding one of the pool's outcomes (and running its stages). */
  boolean decodingOnThisThread() {
    return decodingHere.get();
  }

  boolean terminated() {
    return terminated.getCount() == 0;
  }

  boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
    return terminated.await(timeout, unit);
  }

  void awaitTermination() throws InterruptedException {
    terminated.await();
  }
}
