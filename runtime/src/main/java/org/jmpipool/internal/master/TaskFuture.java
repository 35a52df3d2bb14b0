package org.jmpipool.internal.master;

import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.jmpipool.internal.loop.CommunicationThread;
import org.jmpipool.internal.wire.Payload;
import org.jmpipool.internal.wire.ThrowableCodec;

/**
 * The future of one submitted task. Cancelling it also cancels the task: dropped if it has not
 * started, interrupted on its worker if asked to and it runs.
 *
 * <p>The communication thread only moves bytes: it leaves an arriving result or failure here,
 * encoded, and whoever needs it decodes it. A caller waiting in {@code get} or {@code join}
 * decodes it itself, so a round trip crosses no extra thread; otherwise the pool's decoder
 * thread does ({@link PoolOutcomes}). Exactly one of them decodes: the one
 * that takes the encoded outcome out of {@link #arrived}. The communication thread writes
 * {@code arrived} before it reads {@link #waiters}, and a waiter counts itself before it reads
 * {@code arrived}, so at least one of them sees the other: either the communication thread hands
 * the decoding to the decoder thread, or a waiter takes it (a waiter that stops waiting without
 * it, timed out or interrupted, hands it over itself).
 *
 * <p>Threads: created and waited on by callers; {@link #onResult}, {@link #onRemoteFailure},
 * {@link #onFailure} and {@link #onNotStarted} are called by the communication thread.
 */
final class TaskFuture<T> extends PoolFuture<T> implements TaskRecord.Completion {

  private final DistributedExecutor executor;
  private final Decoder<T> decoder;
  private TaskRecord record;
  /** The encoded outcome, from its arrival until one thread takes it to decode. */
  private final AtomicReference<Arrival> arrived = new AtomicReference<>();
  /** Completes when an outcome arrives, waking the callers waiting for it. */
  private final CompletableFuture<Void> arrival = new CompletableFuture<>();
  /** Callers inside {@code get} or {@code join}. */
  private final AtomicInteger waiters = new AtomicInteger();

  /** An outcome as it arrived: a result, or a failure as the worker described it. */
  private record Arrival(Payload encoded, boolean failed) {
  }

  /**
   * Creates the future.
   *
   * @param executor the executor to tell about cancellation, whose decoder decodes outcomes
   *     nobody waits for
   * @param decoder decodes the result payload into the future's value
   */
  TaskFuture(DistributedExecutor executor, Decoder<T> decoder) {
    this.executor = executor;
    this.decoder = decoder;
  }

  void attach(TaskRecord taskRecord) {
    this.record = taskRecord;
  }

  /** Decodes a result payload, or takes the value a handed-over task left in its record. */
  @FunctionalInterface
  interface Decoder<T> {
    T decode(TaskRecord record, Payload result);
  }

  @Override
  public void onResult(Payload result, long executionNanos) {
    arrive(new Arrival(result.retain(), false));
  }

  @Override
  public void onRemoteFailure(Payload encoded) {
    arrive(new Arrival(encoded.retain(), true));
  }

  private void arrive(Arrival outcome) {
    if (isDone()) {
      // Cancelled meanwhile: nobody will read it.
      outcome.encoded().release();
      return;
    }
    executor.outcomes().hold();
    arrived.set(outcome);
    arrival.complete(null);
    if (waiters.get() == 0) {
      executor.outcomes().decodeLater(this::decodeIfArrived);
    }
  }

  /**
   * Decodes the outcome that arrived and completes the future with it, unless another thread took
   * it first or none has arrived.
   *
   * @return whether this call decoded it
   */
  private boolean decodeIfArrived() {
    Arrival outcome = arrived.getAndSet(null);
    if (outcome == null) {
      return false;
    }
    executor.outcomes().decodeHere(() -> {
      try {
        if (outcome.failed()) {
          completeExceptionally(ThrowableCodec.decode(outcome.encoded()));
        } else {
          complete(decoder.decode(record, outcome.encoded()));
        }
      } catch (RuntimeException | Error undecodable) {
        // Out of memory for a huge result or exception, say: the future fails, the pool goes on.
        completeExceptionally(undecodable);
      } finally {
        outcome.encoded().release();
        executor.outcomes().release();
      }
    });
    return true;
  }

  @Override
  public void onFailure(Throwable failure) {
    completeExceptionally(failure);
  }

  @Override
  public void onNotStarted(String reason) {
    completeExceptionally(new CancellationException("the task " + reason));
  }

  @Override
  public boolean cancel(boolean mayInterruptIfRunning) {
    boolean cancelled = super.cancel(mayInterruptIfRunning);
    if (cancelled && record != null) {
      executor.cancel(record, mayInterruptIfRunning);
    }
    return cancelled;
  }

  @Override
  protected CommunicationThread communication() {
    return executor.front().communication();
  }

  @Override
  protected boolean outcomeWaiting() {
    return arrived.get() != null;
  }

  @Override
  public T get() throws InterruptedException, ExecutionException {
    awaitArrival(Long.MAX_VALUE);
    return super.get();
  }

  @Override
  public T get(long timeout, TimeUnit unit) throws InterruptedException, ExecutionException, TimeoutException {
    if (!awaitArrival(unit.toNanos(timeout))) {
      throw new TimeoutException();
    }
    return super.get(0, TimeUnit.NANOSECONDS);
  }

  @Override
  public T join() {
    boolean interrupted = false;
    while (true) {
      try {
        awaitArrival(Long.MAX_VALUE);
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    return super.join();
  }

  @Override
  public T getNow(T valueIfAbsent) {
    decodeIfArrived();
    return super.getNow(valueIfAbsent);
  }

  private void waitForCompletion(long nanos) throws InterruptedException, ExecutionException, TimeoutException {
    if (nanos == Long.MAX_VALUE) {
      super.get();
    } else {
      super.get(nanos, TimeUnit.NANOSECONDS);
    }
  }

  /**
   * Waits until the future is done, decoding its outcome on this thread if it arrives meanwhile.
   *
   * @return whether it is done; false when the time ran out
   */
  private boolean awaitArrival(long timeoutNanos) throws InterruptedException {
    if (isDone()) {
      return true;
    }
    long deadline = timeoutNanos == Long.MAX_VALUE ? Long.MAX_VALUE : System.nanoTime() + timeoutNanos;
    waiters.incrementAndGet();
    boolean decoded = false;
    try {
      awaitBriefly(timeoutNanos);
      while (!isDone()) {
        if (decodeIfArrived()) {
          decoded = true;
          continue;
        }
        long left = deadline == Long.MAX_VALUE ? Long.MAX_VALUE : deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        try {
          if (arrival.isDone()) {
            if (arrived.get() != null) {
              // It arrived after this thread looked, and the communication thread, seeing this
              // thread wait, left it here: take it.
              continue;
            }
            // Another thread took the outcome and decodes it: only this future's completion is left.
            waitForCompletion(left);
          } else {
            // Done without an arrival (cancelled, failed on the master) wakes the waiter too.
            CompletableFuture<Object> wake = CompletableFuture.anyOf(arrival, this);
            if (left == Long.MAX_VALUE) {
              wake.get();
            } else {
              wake.get(left, TimeUnit.NANOSECONDS);
            }
          }
        } catch (ExecutionException | CancellationException e) {
          // Done: the loop ends.
        } catch (TimeoutException e) {
          return false;
        }
      }
      return true;
    } finally {
      if (waiters.decrementAndGet() == 0 && !decoded && arrived.get() != null) {
        // This waiter leaves an outcome it did not take: the decoder thread takes it.
        executor.outcomes().decodeLater(this::decodeIfArrived);
      }
    }
  }
}
