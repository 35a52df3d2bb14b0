package org.jmpipool.internal;

import java.util.concurrent.CancellationException;

/**
 * The future of one submitted task. Cancelling it also cancels the task: dropped if it has not
 * started, interrupted on its worker if asked to and it runs.
 */
final class TaskFuture<T> extends PoolFuture<T> implements TaskRecord.Completion {

  private final DistributedExecutor executor;
  private final Decoder<T> decoder;
  private TaskRecord record;

  /**
   * Creates the future.
   *
   * @param executor the executor to tell about cancellation
   * @param decoder decodes the result payload into the future's value
   */
  TaskFuture(DistributedExecutor executor, Decoder<T> decoder) {
    this.executor = executor;
    this.decoder = decoder;
  }

  void attach(TaskRecord taskRecord) {
    this.record = taskRecord;
  }

  /** Decodes a result payload, or takes the value a direct task left in its record. */
  @FunctionalInterface
  interface Decoder<T> {
    T decode(TaskRecord record, Payload result);
  }

  /**
   * Decodes a result and completes the future. A large result (one received in native buffers of
   * its own) is decoded on a decoder thread: decoding takes as long as receiving it did, time in
   * which the communication thread receives the next one.
   */
  @Override
  public void onResult(Payload result, long executionNanos) {
    if (result instanceof Payload.Parts) {
      executor.decodeAside(() -> completeFrom(result));
    } else {
      completeFrom(result);
    }
  }

  private void completeFrom(Payload result) {
    T value;
    try {
      value = decoder.decode(record, result);
    } catch (RuntimeException e) {
      completeExceptionally(e);
      return;
    } finally {
      result.release();
    }
    complete(value);
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
}
