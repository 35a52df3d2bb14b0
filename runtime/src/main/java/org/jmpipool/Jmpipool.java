package org.jmpipool;

import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import org.jmpipool.internal.JobContext;
import org.jmpipool.internal.worker.RunningTask;

/**
 * Entry points of jmpipool: the default executor, new pools, and functions over the default
 * executor.
 *
 * <p>The same program runs unchanged under the launcher ({@code bin/jmpipool -n 8 com.acme.Main},
 * where the default executor's workers are the job's other ranks), with plain {@code java} (a
 * local pool of worker threads, or spawned MPI workers: see {@link Backend}), and in tests:
 *
 * <pre>{@code
 * public static void main(String[] args) throws Exception {
 *   List<Double> results = Jmpipool.map(Model::simulate, parameters);
 * }
 * }</pre>
 *
 * <p>Tasks always run in workers, never in the calling thread, and are serialized on their way
 * (except in a local pool built with {@link PoolBuilder#serializeTasks(boolean) serializeTasks(false)}).
 */
public final class Jmpipool {

  private Jmpipool() {
  }

  /**
   * Returns the default executor: the launched job's when this program was started by the
   * launcher, else a shared pool of the {@linkplain #defaultBackend() default backend}, created on
   * first use (with one notice line on standard error when the backend was chosen automatically)
   * and ended with the JVM. A single-worker pool, or a launched job of one rank, is handled by the
   * {@link SerialPolicy}. The program need not close it; if it does, the next call creates a new
   * one.
   *
   * @return the default executor
   * @throws IllegalStateException inside a task (tasks cannot submit tasks), or when the
   *     {@link Backend#MPI} backend is chosen in a JVM the launcher did not start
   * @throws PoolStartException when spawned workers cannot be started
   */
  public static MpiPoolExecutor executor() {
    return JobContext.executor();
  }

  /**
   * Returns the shared executor of a backend, without changing the default.
   *
   * @param backend the backend
   * @return its shared executor, created on first use and ended with the JVM
   * @throws IllegalStateException inside a task, or for {@link Backend#MPI} outside a launched job
   * @throws PoolStartException when spawned workers cannot be started
   */
  public static MpiPoolExecutor executor(Backend backend) {
    return JobContext.executor(Objects.requireNonNull(backend, "backend"));
  }

  /**
   * Makes a backend the default, over the {@code jmpipool.backend} property and the
   * {@code JMPIPOOL_BACKEND} variable. Executors already handed out are not affected.
   *
   * @param backend the backend, or {@code null} to return to the property, variable or automatic choice
   */
  public static void useBackend(Backend backend) {
    JobContext.choose(backend);
  }

  /**
   * Returns the backend of the default executor.
   *
   * @return the backend chosen by {@link #useBackend}, the property, the variable, or automatically
   */
  public static Backend defaultBackend() {
    return JobContext.defaultBackend();
  }

  /**
   * Starts a new local pool: {@code threads} worker threads in this JVM, with the semantics of an
   * MPI pool, tasks and results serialized on their way. The caller closes it.
   *
   * @param threads the number of worker threads, at least 1
   * @return the pool
   */
  public static MpiPoolExecutor local(int threads) {
    return builder().backend(Backend.LOCAL).workers(threads).build();
  }

  /**
   * Starts a new pool of {@code workers} worker JVMs, spawned through MPI from this JVM (which
   * becomes an MPI process on first use), or, when {@code jmpipool.spawn.hosts} names hosts,
   * started there as an MPI job of their own ({@link PoolBuilder#hosts}). The caller closes it,
   * which stops the workers.
   *
   * @param workers the number of worker processes, at least 1
   * @return the pool
   * @throws PoolStartException when the workers cannot be started within 60 s
   */
  public static MpiPoolExecutor spawn(int workers) {
    return builder().backend(Backend.SPAWN).workers(workers).build();
  }

  /**
   * Starts a new {@link MpiPool} (Python's {@code multiprocessing.Pool}) of {@code processes}
   * workers on the {@linkplain #defaultBackend() default backend}: worker ranks of the launched
   * job, spawned workers, or local threads. The caller closes it.
   *
   * @param processes the number of workers, at least 1
   * @return the pool
   * @throws IllegalArgumentException when {@code processes} is below 1, or above the worker
   *     ranks of a launched job
   * @throws PoolStartException when spawned workers cannot be started
   */
  public static MpiPool pool(int processes) {
    return builder().backend(defaultBackend()).workers(processes).buildPool();
  }

  /**
   * Starts a new {@link WorkerPool} (pyMOR style) of {@code workers} workers on the
   * {@linkplain #defaultBackend() default backend}. The caller closes it.
   *
   * @param workers the number of workers, at least 1
   * @return the pool
   * @throws IllegalArgumentException when {@code workers} is below 1, or above the worker ranks
   *     of a launched job
   * @throws PoolStartException when spawned workers cannot be started
   */
  public static WorkerPool workerPool(int workers) {
    return builder().backend(defaultBackend()).workers(workers).buildWorkerPool();
  }

  /**
   * Returns a builder for a new pool with more choices (backend, JVM options and environment of
   * spawned workers, serialization of local pools, start timeout).
   *
   * @return a new builder
   */
  public static PoolBuilder builder() {
    return new PoolBuilder();
  }

  /**
   * Applies a function to every input on the default executor and returns all results in input
   * order. A failing item throws, after cancelling the rest.
   *
   * @param function the function
   * @param inputs the inputs
   * @param <T> the input type
   * @param <R> the result type
   * @return the results
   * @throws java.util.concurrent.CompletionException with the first failure as its cause
   */
  public static <T, R> List<R> map(SerializableFunction<? super T, ? extends R> function, Iterable<? extends T> inputs) {
    MapResults<R> results = executor().map(function, inputs);
    return results.toList();
  }

  /**
   * Applies a function to every input on the default executor, lazily: results come in input
   * order as they are ready, and inputs are read only as far ahead as needed.
   *
   * @param function the function
   * @param inputs the inputs
   * @param <T> the input type
   * @param <R> the result type
   * @return the results; close them to cancel what is left
   */
  public static <T, R> MapResults<R> imap(SerializableFunction<? super T, ? extends R> function,
      Iterable<? extends T> inputs) {
    return executor().map(function, inputs);
  }

  /**
   * Applies a function to every input on the default executor and gives the results in
   * completion order. Submission is bounded (inputs are read only as far ahead as the workers
   * need), so a very large or infinite input works. Return the input with the result if you need
   * to know which is which.
   *
   * @param function the function
   * @param inputs the inputs
   * @param <T> the input type
   * @param <R> the result type
   * @return the results, in completion order; close them to cancel what is left
   */
  public static <T, R> MapResults<R> asCompleted(SerializableFunction<? super T, ? extends R> function,
      Iterable<? extends T> inputs) {
    return executor().map(function, inputs, MapOptions.defaults().unordered());
  }

  /**
   * Gives futures in the order they complete, like Python's {@code concurrent.futures.as_completed}.
   * Iterating blocks until the next future completes. A future listed more than once is given once.
   *
   * @param futures the futures, of any executor
   * @param <T> the value type
   * @return the same futures, each done, in completion order
   */
  public static <T> Iterable<CompletableFuture<T>> asCompleted(Collection<? extends CompletableFuture<T>> futures) {
    LinkedBlockingQueue<CompletableFuture<T>> done = new LinkedBlockingQueue<>();
    // A future listed twice is one future: it is given once, as Python's as_completed does.
    Set<CompletableFuture<T>> distinct = new LinkedHashSet<>(futures);
    int count = distinct.size();
    for (CompletableFuture<T> future : distinct) {
      future.whenComplete((value, failure) -> done.add(future));
    }
    return () -> new Iterator<>() {
      private int taken;

      @Override
      public boolean hasNext() {
        return taken < count;
      }

      @Override
      public CompletableFuture<T> next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        try {
          CompletableFuture<T> next = done.take();
          taken++;
          return next;
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while waiting for the next future", e);
        }
      }
    };
  }

  /**
   * Returns this code's rank: inside a task, its worker's rank (1 and up); on a worker rank of a
   * launched job, that rank; anywhere else 0, the master. Never creates an executor.
   *
   * @return the rank
   */
  public static int rank() {
    TaskContext context = RunningTask.currentOrNull();
    return context != null ? context.rank() : JobContext.processRank();
  }

  /**
   * Returns the number of ranks of the current pool: its workers and its master. Inside a task,
   * that of the task's pool; elsewhere, that of the default executor, which is created if needed.
   *
   * @return the number of ranks
   */
  public static int size() {
    TaskContext context = RunningTask.currentOrNull();
    return context != null ? context.worldSize() : executor().workers() + 1;
  }

  /**
   * Returns whether this code runs on the master: outside any task.
   *
   * @return whether this is rank 0
   */
  public static boolean isMaster() {
    return !JobContext.inTask();
  }

  /**
   * The chunk size of a fair static split, as Python's {@code multiprocessing.Pool} and mpi4py
   * use: {@code ceil(items / (4 * workers))}, at least 1. Automatic chunking in
   * {@link MpiPoolExecutor#map} never exceeds it for sized inputs.
   *
   * @param items the number of inputs
   * @param workers the number of workers
   * @return the chunk size
   */
  public static int defaultChunkSize(int items, int workers) {
    if (items < 0 || workers < 1) {
      throw new IllegalArgumentException("need items >= 0 and workers >= 1, not " + items + " and " + workers);
    }
    return (int) Math.max(1, (items + 4L * workers - 1) / (4L * workers));
  }
}
