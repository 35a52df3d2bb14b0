package org.jmpipool.internal.master;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.jmpipool.MapResults;
import org.jmpipool.MpiPoolExecutor;
import org.jmpipool.RemoteRef;
import org.jmpipool.SerializableBiFunction;
import org.jmpipool.SerializableCallable;
import org.jmpipool.SerializableFunction;
import org.jmpipool.WorkerPool;
import org.jmpipool.internal.wire.ThrowableCodec;

/**
 * The {@link WorkerPool} over a pool's executor, with the pool's {@link StoredObjects}.
 *
 * <p>Threads: any; each call waits for its own tasks.
 */
public final class StoringWorkerPool implements WorkerPool {

  private final DistributedExecutor executor;
  private final StoredObjects stored;

  public StoringWorkerPool(DistributedExecutor executor) {
    this.executor = executor;
    this.stored = new StoredObjects(executor.front(), executor.codec());
    executor.useStoredObjects(stored);
  }

  @Override
  public int workers() {
    return executor.workers();
  }

  @Override
  public <T> RemoteRef<T> push(T object) {
    Objects.requireNonNull(object, "object must not be null");
    checkOpen();
    return stored.push(object);
  }

  @Override
  public <T> RemoteRef<List<T>> scatter(List<T> items) {
    Objects.requireNonNull(items, "items must not be null");
    checkOpen();
    return stored.scatter(items);
  }

  @Override
  public <R> List<R> applyAll(SerializableCallable<? extends R> task) {
    Objects.requireNonNull(task, "task must not be null");
    checkOpen();
    int workers = executor.front().workerCount();
    List<CompletableFuture<? extends R>> calls = new ArrayList<>(workers);
    for (int worker = 0; worker < workers; worker++) {
      calls.add(executor.submitTo(worker, task));
    }
    List<R> values = new ArrayList<>(workers);
    CompletionException firstFailure = null;
    for (int worker = 0; worker < workers; worker++) {
      try {
        values.add(calls.get(worker).get());
      } catch (ExecutionException | CancellationException e) {
        if (firstFailure == null) {
          firstFailure = failedOn(worker, e instanceof ExecutionException ? e.getCause() : e);
        }
      } catch (InterruptedException e) {
        calls.forEach(call -> call.cancel(true));
        Thread.currentThread().interrupt();
        throw new CompletionException("interrupted while waiting for the workers", e);
      }
    }
    if (firstFailure != null) {
      throw firstFailure;
    }
    return values;
  }

  @Override
  public <T, R> List<R> applyAll(SerializableFunction<? super T, ? extends R> function, RemoteRef<T> storedObject) {
    Objects.requireNonNull(function, "function must not be null");
    Objects.requireNonNull(storedObject, "stored object must not be null");
    stored.checkUsable(storedObject);
    return applyAll(() -> function.apply(storedObject.get()));
  }

  @Override
  public <R> R applyOn(int worker, SerializableCallable<? extends R> task) {
    Objects.requireNonNull(task, "task must not be null");
    if (worker < 0 || worker >= executor.front().workerCount()) {
      throw new IllegalArgumentException("no worker " + worker + ": the pool has workers 0 to "
          + (executor.front().workerCount() - 1));
    }
    checkOpen();
    try {
      return executor.submitTo(worker, task).get();
    } catch (ExecutionException | CancellationException e) {
      throw failedOn(worker, e instanceof ExecutionException ? e.getCause() : e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CompletionException("interrupted while waiting for worker " + worker, e);
    }
  }

  @Override
  public <T, R> R applyOn(int worker, SerializableFunction<? super T, ? extends R> function, RemoteRef<T> storedObject) {
    Objects.requireNonNull(function, "function must not be null");
    Objects.requireNonNull(storedObject, "stored object must not be null");
    stored.checkUsable(storedObject);
    return applyOn(worker, () -> function.apply(storedObject.get()));
  }

  private CompletionException failedOn(int worker, Throwable cause) {
    return new CompletionException("the task failed on worker " + worker + " (rank "
        + executor.front().layout().rankOf(worker) + "): " + ThrowableCodec.safeToString(cause), cause);
  }

  @Override
  public <T, R> List<R> map(SerializableFunction<? super T, ? extends R> function, Iterable<? extends T> inputs) {
    Objects.requireNonNull(function, "function must not be null");
    Objects.requireNonNull(inputs, "inputs must not be null");
    checkOpen();
    MapResults<R> results = executor.map(function, inputs);
    return results.toList();
  }

  @Override
  public <S, T, R> List<R> map(SerializableBiFunction<? super S, ? super T, ? extends R> function,
      RemoteRef<S> storedObject, Iterable<? extends T> inputs) {
    Objects.requireNonNull(function, "function must not be null");
    Objects.requireNonNull(storedObject, "stored object must not be null");
    stored.checkUsable(storedObject);
    return map((T input) -> function.apply(storedObject.get(), input), inputs);
  }

  private void checkOpen() {
    executor.rejectIfShutdown();
  }

  @Override
  public MpiPoolExecutor executor() {
    return executor;
  }

  @Override
  public void close() {
    executor.close();
  }

  @Override
  public String toString() {
    return "WorkerPool[workers=" + workers() + (executor.isShutdown() ? ", closed" : "") + "]";
  }
}
