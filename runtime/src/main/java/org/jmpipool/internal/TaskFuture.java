package org.jmpipool.internal;

import java.util.function.Function;

/**
 * The future of one submitted task. Cancelling it also cancels the task: dropped if it has not
 * started, interrupted on its worker if asked to and it runs.
 */
final class TaskFuture<T> extends PoolFuture<T> implements TaskRecord.Completion {

  private final DistributedExecutor executor;
  private final Function<byte[], T> decoder;
  private TaskRecord record;

  /**
   * Creates the future.
   *
   * @param executor the executor to tell about cancellation
   * @param decoder decodes the result payload into the future's value
   */
  TaskFuture(DistributedExecutor executor, Function<byte[], T> decoder) {
    this.executor = executor;
    this.decoder = decoder;
  }

  void attach(TaskRecord taskRecord) {
    this.record = taskRecord;
  }

  @Override
  public void onResult(byte[] payload, long executionNanos) {
    T value;
    try {
      value = decoder.apply(payload);
    } catch (RuntimeException e) {
      completeExceptionally(e);
      return;
    }
    complete(value);
  }

  @Override
  public void onFailure(Throwable failure) {
    completeExceptionally(failure);
  }

  @Override
  public void onNotStarted() {
    super.cancel(false);
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
