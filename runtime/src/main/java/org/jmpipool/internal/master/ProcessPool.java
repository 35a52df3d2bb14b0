package org.jmpipool.internal.master;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jmpipool.AsyncResult;
import org.jmpipool.Jmpipool;
import org.jmpipool.MapOptions;
import org.jmpipool.MapResults;
import org.jmpipool.MpiPool;
import org.jmpipool.MpiPoolExecutor;
import org.jmpipool.SerializableCallable;
import org.jmpipool.SerializableFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link MpiPool} over a pool's executor. Asynchronous results are completed, and callbacks
 * run, on the pool's result threads, so that the communication thread never runs user
 * callbacks; a map's results are decoded there too. A result known at call time (empty inputs)
 * is completed, and its callback run, by the calling thread.
 */
public final class ProcessPool implements MpiPool {

  private static final Logger LOG = LoggerFactory.getLogger(ProcessPool.class);
  /** How long terminate() lets running tasks react to their interrupt before giving up on them. */
  private static final long TERMINATE_WAIT_SECONDS = 10;

  private enum State { RUNNING, CLOSED, TERMINATED }

  private final DistributedExecutor executor;
  private final ExecutorService results = Executors.newCachedThreadPool(runnable -> {
    Thread thread = new Thread(runnable, "jmpipool-results");
    thread.setDaemon(true);
    return thread;
  });
  private final Set<PendingResult<?>> outstanding = ConcurrentHashMap.newKeySet();
  private volatile State state = State.RUNNING;

  public ProcessPool(DistributedExecutor executor) {
    this.executor = executor;
  }

  @Override
  public int processes() {
    return executor.workers();
  }

  @Override
  public <R> R apply(SerializableCallable<R> task) {
    return await(applyAsync(task));
  }

  @Override
  public <T, R> R apply(SerializableFunction<? super T, ? extends R> function, T argument) {
    return await(applyAsync(function, argument));
  }

  @Override
  public <R> AsyncResult<R> applyAsync(SerializableCallable<R> task) {
    Objects.requireNonNull(task, "task must not be null");
    checkRunning();
    return track(executor.submit(task), null, null);
  }

  @Override
  public <T, R> AsyncResult<R> applyAsync(SerializableFunction<? super T, ? extends R> function, T argument) {
    return applyAsync(function, argument, null, null);
  }

  @Override
  public <T, R> AsyncResult<R> applyAsync(SerializableFunction<? super T, ? extends R> function, T argument,
      Consumer<? super R> callback, Consumer<? super Throwable> errorCallback) {
    Objects.requireNonNull(function, "function must not be null");
    checkRunning();
    CompletableFuture<R> future = executor.submit(function, argument);
    return track(future, callback, errorCallback);
  }

  @Override
  public <T, R> List<R> map(SerializableFunction<? super T, ? extends R> function, Iterable<? extends T> inputs) {
    return await(mapAsync(function, inputs));
  }

  @Override
  public <T, R> List<R> map(SerializableFunction<? super T, ? extends R> function, Iterable<? extends T> inputs,
      int chunkSize) {
    return await(mapAsync(function, inputs, checkChunkSize(chunkSize)));
  }

  @Override
  public <T, R> AsyncResult<List<R>> mapAsync(SerializableFunction<? super T, ? extends R> function,
      Iterable<? extends T> inputs) {
    return mapAsync(function, inputs, 0, null, null);
  }

  @Override
  public <T, R> AsyncResult<List<R>> mapAsync(SerializableFunction<? super T, ? extends R> function,
      Iterable<? extends T> inputs, int chunkSize) {
    return mapAsync(function, inputs, checkChunkSize(chunkSize), null, null);
  }

  @Override
  public <T, R> AsyncResult<List<R>> mapAsync(SerializableFunction<? super T, ? extends R> function,
      Iterable<? extends T> inputs, int chunkSize, Consumer<? super List<R>> callback,
      Consumer<? super Throwable> errorCallback) {
    Objects.requireNonNull(function, "function must not be null");
    Objects.requireNonNull(inputs, "inputs must not be null");
    if (chunkSize < 0) {
      throw new IllegalArgumentException("chunk size must be at least 1 (or 0 for the default), not " + chunkSize);
    }
    checkRunning();
    List<T> items = materialize(inputs);
    CompletableFuture<List<R>> values = new CompletableFuture<>();
    if (items.isEmpty()) {
      values.complete(List.of());
    } else {
      int chunk = chunkSize(items.size(), processes(), chunkSize);
      // Every chunk is sent now, as in Python; the result thread only collects.
      MapResults<R> mapped = executor.map(function, items,
          MapOptions.defaults().chunkSize(chunk).maxInFlight(items.size() + chunk));
      results.execute(() -> {
        try {
          values.complete(mapped.toList());
        } catch (RuntimeException failure) {
          values.completeExceptionally(failure instanceof CompletionException ? failure.getCause() : failure);
        }
      });
    }
    return track(values, callback, errorCallback);
  }

  @Override
  public <T, R> MapResults<R> imap(SerializableFunction<? super T, ? extends R> function, Iterable<? extends T> inputs) {
    return lazyMap(function, inputs, MapOptions.defaults());
  }

  @Override
  public <T, R> MapResults<R> imap(SerializableFunction<? super T, ? extends R> function, Iterable<? extends T> inputs,
      int chunkSize) {
    return lazyMap(function, inputs, MapOptions.defaults().chunkSize(checkChunkSize(chunkSize)));
  }

  @Override
  public <T, R> MapResults<R> imapUnordered(SerializableFunction<? super T, ? extends R> function,
      Iterable<? extends T> inputs) {
    return lazyMap(function, inputs, MapOptions.defaults().unordered());
  }

  @Override
  public <T, R> MapResults<R> imapUnordered(SerializableFunction<? super T, ? extends R> function,
      Iterable<? extends T> inputs, int chunkSize) {
    return lazyMap(function, inputs, MapOptions.defaults().unordered().chunkSize(checkChunkSize(chunkSize)));
  }

  private <T, R> MapResults<R> lazyMap(SerializableFunction<? super T, ? extends R> function,
      Iterable<? extends T> inputs, MapOptions options) {
    Objects.requireNonNull(function, "function must not be null");
    Objects.requireNonNull(inputs, "inputs must not be null");
    checkRunning();
    return executor.map(function, inputs, options);
  }

  /**
   * The chunk size of a map that reads its inputs at once: the requested one, else Python's
   * {@code ceil(items / (4 * workers))}.
   */
  static int chunkSize(int items, int workers, int requested) {
    return requested > 0 ? requested : Jmpipool.defaultChunkSize(items, Math.max(1, workers));
  }

  private static int checkChunkSize(int chunkSize) {
    if (chunkSize < 1) {
      throw new IllegalArgumentException("chunk size must be at least 1, not " + chunkSize);
    }
    return chunkSize;
  }

  @SuppressWarnings("unchecked")
  private static <T> List<T> materialize(Iterable<? extends T> inputs) {
    if (inputs instanceof Collection<?> collection) {
      return new ArrayList<>((Collection<T>) collection);
    }
    List<T> items = new ArrayList<>();
    inputs.forEach(items::add);
    return items;
  }

  private void checkRunning() {
    if (state != State.RUNNING) {
      throw new RejectedExecutionException("the pool was " + (state == State.CLOSED ? "closed" : "terminated")
          + " and accepts no more work");
    }
  }

  /**
   * Makes the result of a call: completed from the call's future on a result thread, after the
   * callback.
   */
  private <R> AsyncResult<R> track(CompletableFuture<? extends R> call, Consumer<? super R> callback,
      Consumer<? super Throwable> errorCallback) {
    PendingResult<R> result = new PendingResult<>();
    outstanding.add(result);
    java.util.function.BiConsumer<R, Throwable> finish = (value, failure) -> {
      Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
      try {
        if (cause == null && callback != null) {
          callback.accept(value);
        } else if (cause != null && errorCallback != null) {
          errorCallback.accept(cause);
        }
      } catch (RuntimeException | Error e) {
        LOG.error("a callback of an MpiPool call failed", e);
      }
      if (cause == null) {
        result.complete(value);
      } else {
        result.fail(cause);
      }
      outstanding.remove(result);
    };
    if (call.isDone()) {
      // Ready at once (empty inputs): the result is ready when the call returns, as in Python.
      call.whenComplete(finish);
    } else {
      call.whenCompleteAsync(finish, results);
    }
    return result;
  }

  private static <R> R await(AsyncResult<R> result) {
    try {
      return result.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CompletionException("interrupted while waiting for a pool result", e);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new CompletionException(e.getCause());
    }
  }

  @Override
  public void close() {
    if (state == State.RUNNING) {
      state = State.CLOSED;
    }
    executor.close();
    awaitOutstanding();
    results.shutdown();
  }

  /** Results complete on the result threads just after the executor's futures: wait for those too. */
  private void awaitOutstanding() {
    for (PendingResult<?> result : outstanding) {
      try {
        result.await(java.time.Duration.ofSeconds(TERMINATE_WAIT_SECONDS));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  @Override
  public void terminate() {
    state = State.TERMINATED;
    executor.shutdownNow();
    try {
      executor.awaitTermination(TERMINATE_WAIT_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (PendingResult<?> result : outstanding) {
      result.cancel("the pool was terminated before this call completed");
    }
    outstanding.clear();
    results.shutdown();
  }

  @Override
  public void join() throws InterruptedException {
    if (state == State.RUNNING) {
      throw new IllegalStateException("join() waits for the workers of a closed or terminated pool: call close() or"
          + " terminate() first");
    }
    while (!executor.awaitTermination(1, TimeUnit.SECONDS)) {
      // Waiting for the workers to stop.
    }
  }

  @Override
  public MpiPoolExecutor executor() {
    return executor;
  }

  @Override
  public String toString() {
    return "MpiPool[processes=" + processes() + ", " + state.name().toLowerCase(java.util.Locale.ROOT) + "]";
  }
}
