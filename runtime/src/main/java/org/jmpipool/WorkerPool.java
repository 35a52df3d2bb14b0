package org.jmpipool;

import java.util.List;

/**
 * A pool in the style of pyMOR's {@code WorkerPool}: objects are stored on the workers once and
 * referred to by handles, and functions run on every worker, on one, or over inputs. Make one
 * with {@link Jmpipool#workerPool(int)} or {@link PoolBuilder#buildWorkerPool()}:
 *
 * <pre>{@code
 * try (WorkerPool pool = Jmpipool.workerPool(4);
 *      RemoteRef<Model> model = pool.push(Model.load(path))) {
 *   List<Double> errors = pool.map(Model::error, model, parameters);
 *   List<Integer> cached = pool.applyAll(m -> m.cacheSize(), model);
 * }
 * }</pre>
 *
 * <p>Results of {@code applyAll} come in worker order (worker {@code i} is
 * {@link TaskContext#workerIndex()} {@code i}). A call whose task fails on a worker throws a
 * {@link java.util.concurrent.CompletionException} naming that worker and its rank, with the task's
 * exception as cause; every call waits for all of its own tasks, so nothing of a failed call is
 * left to be mistaken for the result of a later one.
 */
public interface WorkerPool extends AutoCloseable {

  /**
   * Returns the number of workers.
   *
   * @return the number of workers, 0 once the pool is broken
   */
  int workers();

  /**
   * Stores an object on every worker: it is serialized once and broadcast (the master sends it to
   * a few workers, which pass it on). Pushing the same object again, unchanged, while a handle to
   * it is open reuses the stored copies.
   *
   * @param object the object, not {@code null}
   * @param <T> its type
   * @return the handle
   */
  <T> RemoteRef<T> push(T object);

  /**
   * Splits a list into contiguous parts of nearly equal size, one per worker in worker order, and
   * stores each part on its worker.
   *
   * @param items the list
   * @param <T> the element type
   * @return the handle; on worker {@code i}, {@link RemoteRef#get()} is its part
   */
  <T> RemoteRef<List<T>> scatter(List<T> items);

  /**
   * Runs a task once on every worker and waits for all of them.
   *
   * @param task the task
   * @param <R> the result type
   * @return the values, in worker order
   * @throws java.util.concurrent.CompletionException when the task failed on a worker
   */
  <R> List<R> applyAll(SerializableCallable<? extends R> task);

  /**
   * Applies a function to every worker's copy of a stored object and waits for all of them.
   *
   * @param function the function
   * @param stored the stored object
   * @param <T> its type
   * @param <R> the result type
   * @return the values, in worker order
   * @throws java.util.concurrent.CompletionException when the function failed on a worker
   */
  <T, R> List<R> applyAll(SerializableFunction<? super T, ? extends R> function, RemoteRef<T> stored);

  /**
   * Runs a task on one worker and waits for it.
   *
   * @param worker the worker's index, from 0 to {@link #workers()} - 1
   * @param task the task
   * @param <R> the result type
   * @return the value
   * @throws java.util.concurrent.CompletionException when the task failed
   */
  <R> R applyOn(int worker, SerializableCallable<? extends R> task);

  /**
   * Applies a function to one worker's copy of a stored object and waits for it.
   *
   * @param worker the worker's index
   * @param function the function
   * @param stored the stored object
   * @param <T> its type
   * @param <R> the result type
   * @return the value
   * @throws java.util.concurrent.CompletionException when the function failed
   */
  <T, R> R applyOn(int worker, SerializableFunction<? super T, ? extends R> function, RemoteRef<T> stored);

  /**
   * Applies a function to every input, spread over the workers, and waits for all values.
   *
   * @param function the function
   * @param inputs the inputs
   * @param <T> the input type
   * @param <R> the result type
   * @return the values in input order
   * @throws java.util.concurrent.CompletionException when an item failed
   */
  <T, R> List<R> map(SerializableFunction<? super T, ? extends R> function, Iterable<? extends T> inputs);

  /**
   * Applies a function to a stored object and every input: the function gets the copy of the
   * worker it runs on.
   *
   * @param function the function of the stored object and an input
   * @param stored the stored object
   * @param inputs the inputs
   * @param <S> the stored object's type
   * @param <T> the input type
   * @param <R> the result type
   * @return the values in input order
   * @throws java.util.concurrent.CompletionException when an item failed
   */
  <S, T, R> List<R> map(SerializableBiFunction<? super S, ? super T, ? extends R> function, RemoteRef<S> stored,
      Iterable<? extends T> inputs);

  /**
   * Returns the executor behind this pool, for submitting tasks that use stored objects.
   *
   * @return the executor
   */
  MpiPoolExecutor executor();

  /** Waits for the outstanding work, then releases the workers and their stored objects. */
  @Override
  void close();
}
