package org.jmpipool;

import java.util.List;
import java.util.function.Consumer;

/**
 * A pool in the style of Python's {@code multiprocessing.Pool} and {@code mpi4py.util.pool}, over
 * any backend (ranks of a launched job, spawned workers, local threads). Make one with
 * {@link Jmpipool#pool(int)} or {@link PoolBuilder#buildPool()}:
 *
 * <pre>{@code
 * try (MpiPool pool = Jmpipool.pool(4)) {
 *   List<Double> squares = pool.map(x -> x * x, inputs);
 *   AsyncResult<Double> total = pool.applyAsync(Model::integrate, 1e-6);
 * }
 * }</pre>
 *
 * <p>Functions and their arguments are serialized to the workers, as with
 * {@link MpiPoolExecutor}. Blocking calls throw a {@link java.util.concurrent.CompletionException}
 * whose cause is the task's exception; asynchronous ones return an {@link AsyncResult}. Callbacks
 * run on a result thread of the pool's own (on the caller's only when the result is known at
 * call time, as for empty inputs), before the result becomes ready.
 *
 * <p>Chunking: {@code map}, {@code mapAsync} and {@code starmap} read their inputs at once and,
 * without an explicit chunk size, cut them in chunks of {@code ceil(n / (4 * workers))} items,
 * like Python. {@code imap} and its variants read inputs lazily and, without an explicit chunk
 * size, chunk adaptively (one item per task for long tasks, large chunks for tiny ones). Every
 * variant gives empty results for empty inputs. Invalid arguments (null functions or inputs, a
 * chunk size below 1) are rejected at call time.
 *
 * <p>Unlike Python's, {@link #close()} waits for the outstanding work, as Java's
 * {@code ExecutorService.close()} does: a try-with-resources block ends with the work done and
 * the workers released. {@link #terminate()} ends the pool at once.
 */
public interface MpiPool extends AutoCloseable {

  /**
   * Returns the number of workers (Python's {@code processes}).
   *
   * @return the number of workers, 0 once the pool is broken
   */
  int processes();

  /**
   * Runs a task on a worker and waits for its value.
   *
   * @param task the task
   * @param <R> the result type
   * @return the task's value
   * @throws java.util.concurrent.CompletionException when it failed, with its exception as cause
   * @throws java.util.concurrent.RejectedExecutionException after close or terminate
   */
  <R> R apply(SerializableCallable<R> task);

  /**
   * Applies a function to an argument on a worker and waits for the value.
   *
   * @param function the function
   * @param argument its argument
   * @param <T> the argument type
   * @param <R> the result type
   * @return the function's value
   * @throws java.util.concurrent.CompletionException when it failed, with its exception as cause
   */
  <T, R> R apply(SerializableFunction<? super T, ? extends R> function, T argument);

  /**
   * Runs a task on a worker.
   *
   * @param task the task
   * @param <R> the result type
   * @return its result
   */
  <R> AsyncResult<R> applyAsync(SerializableCallable<R> task);

  /**
   * Applies a function to an argument on a worker.
   *
   * @param function the function
   * @param argument its argument
   * @param <T> the argument type
   * @param <R> the result type
   * @return its result
   */
  <T, R> AsyncResult<R> applyAsync(SerializableFunction<? super T, ? extends R> function, T argument);

  /**
   * Applies a function to an argument on a worker, then calls back with the value or the failure.
   *
   * @param function the function
   * @param argument its argument
   * @param callback gets the value on success, or {@code null}
   * @param errorCallback gets the failure (also on cancellation by terminate), or {@code null}
   * @param <T> the argument type
   * @param <R> the result type
   * @return its result, ready only after the callback has returned
   */
  <T, R> AsyncResult<R> applyAsync(SerializableFunction<? super T, ? extends R> function, T argument,
      Consumer<? super R> callback, Consumer<? super Throwable> errorCallback);

  /**
   * Applies a function to every input and waits for all values, in input order.
   *
   * @param function the function
   * @param inputs the inputs
   * @param <T> the input type
   * @param <R> the result type
   * @return the values
   * @throws java.util.concurrent.CompletionException when an item failed, with its exception as cause
   */
  <T, R> List<R> map(SerializableFunction<? super T, ? extends R> function, Iterable<? extends T> inputs);

  /**
   * Like {@link #map(SerializableFunction, Iterable)}, with {@code chunkSize} inputs per task.
   *
   * @param function the function
   * @param inputs the inputs
   * @param chunkSize inputs per task, at least 1
   * @param <T> the input type
   * @param <R> the result type
   * @return the values
   */
  <T, R> List<R> map(SerializableFunction<? super T, ? extends R> function, Iterable<? extends T> inputs, int chunkSize);

  /**
   * Applies a function to every input without waiting.
   *
   * @param function the function
   * @param inputs the inputs, read at once
   * @param <T> the input type
   * @param <R> the result type
   * @return the values in input order; it fails with the first failing item's exception
   */
  <T, R> AsyncResult<List<R>> mapAsync(SerializableFunction<? super T, ? extends R> function,
      Iterable<? extends T> inputs);

  /**
   * Like {@link #mapAsync(SerializableFunction, Iterable)}, with {@code chunkSize} inputs per task.
   *
   * @param function the function
   * @param inputs the inputs, read at once
   * @param chunkSize inputs per task, at least 1
   * @param <T> the input type
   * @param <R> the result type
   * @return the values in input order
   */
  <T, R> AsyncResult<List<R>> mapAsync(SerializableFunction<? super T, ? extends R> function,
      Iterable<? extends T> inputs, int chunkSize);

  /**
   * Applies a function to every input without waiting, then calls back with all values or the
   * failure.
   *
   * @param function the function
   * @param inputs the inputs, read at once
   * @param chunkSize inputs per task, at least 1, or 0 for the default
   * @param callback gets the values on success, or {@code null}
   * @param errorCallback gets the failure, or {@code null}
   * @param <T> the input type
   * @param <R> the result type
   * @return the values in input order, ready only after the callback has returned
   */
  <T, R> AsyncResult<List<R>> mapAsync(SerializableFunction<? super T, ? extends R> function,
      Iterable<? extends T> inputs, int chunkSize, Consumer<? super List<R>> callback,
      Consumer<? super Throwable> errorCallback);

  /**
   * Applies a function to every input lazily: values come in input order as they are ready.
   *
   * @param function the function
   * @param inputs the inputs, read only as far ahead as the workers need
   * @param <T> the input type
   * @param <R> the result type
   * @return the values; close them to cancel what is left
   */
  <T, R> MapResults<R> imap(SerializableFunction<? super T, ? extends R> function, Iterable<? extends T> inputs);

  /**
   * Like {@link #imap(SerializableFunction, Iterable)}, with {@code chunkSize} inputs per task.
   *
   * @param function the function
   * @param inputs the inputs
   * @param chunkSize inputs per task, at least 1
   * @param <T> the input type
   * @param <R> the result type
   * @return the values in input order
   */
  <T, R> MapResults<R> imap(SerializableFunction<? super T, ? extends R> function, Iterable<? extends T> inputs,
      int chunkSize);

  /**
   * Applies a function to every input lazily: values come in completion order.
   *
   * @param function the function
   * @param inputs the inputs
   * @param <T> the input type
   * @param <R> the result type
   * @return the values in completion order
   */
  <T, R> MapResults<R> imapUnordered(SerializableFunction<? super T, ? extends R> function,
      Iterable<? extends T> inputs);

  /**
   * Like {@link #imapUnordered(SerializableFunction, Iterable)}, with {@code chunkSize} inputs per task.
   *
   * @param function the function
   * @param inputs the inputs
   * @param chunkSize inputs per task, at least 1
   * @param <T> the input type
   * @param <R> the result type
   * @return the values in completion order
   */
  <T, R> MapResults<R> imapUnordered(SerializableFunction<? super T, ? extends R> function,
      Iterable<? extends T> inputs, int chunkSize);

  /**
   * Applies a function of two arguments to every pair (Python's {@code starmap}).
   *
   * @param function the function
   * @param arguments the argument pairs ({@link Args#of(Object, Object)})
   * @param <A> the first argument's type
   * @param <B> the second argument's type
   * @param <R> the result type
   * @return the values in input order
   */
  default <A, B, R> List<R> starmap(SerializableBiFunction<? super A, ? super B, ? extends R> function,
      Iterable<? extends Args.Two<? extends A, ? extends B>> arguments) {
    return map(Args.spread(function), arguments);
  }

  /**
   * Applies a function of two arguments to every pair, without waiting.
   *
   * @param function the function
   * @param arguments the argument pairs
   * @param <A> the first argument's type
   * @param <B> the second argument's type
   * @param <R> the result type
   * @return the values in input order
   */
  default <A, B, R> AsyncResult<List<R>> starmapAsync(SerializableBiFunction<? super A, ? super B, ? extends R> function,
      Iterable<? extends Args.Two<? extends A, ? extends B>> arguments) {
    return mapAsync(Args.spread(function), arguments);
  }

  /**
   * Applies a function of two arguments to every pair, lazily, values in input order.
   *
   * @param function the function
   * @param arguments the argument pairs
   * @param <A> the first argument's type
   * @param <B> the second argument's type
   * @param <R> the result type
   * @return the values in input order
   */
  default <A, B, R> MapResults<R> istarmap(SerializableBiFunction<? super A, ? super B, ? extends R> function,
      Iterable<? extends Args.Two<? extends A, ? extends B>> arguments) {
    return imap(Args.spread(function), arguments);
  }

  /**
   * Applies a function of two arguments to every pair, lazily, values in completion order.
   *
   * @param function the function
   * @param arguments the argument pairs
   * @param <A> the first argument's type
   * @param <B> the second argument's type
   * @param <R> the result type
   * @return the values in completion order
   */
  default <A, B, R> MapResults<R> istarmapUnordered(SerializableBiFunction<? super A, ? super B, ? extends R> function,
      Iterable<? extends Args.Two<? extends A, ? extends B>> arguments) {
    return imapUnordered(Args.spread(function), arguments);
  }

  /**
   * Applies a function of three arguments to every triple ({@link Args#of(Object, Object, Object)}).
   *
   * @param function the function
   * @param arguments the argument triples
   * @param <A> the first argument's type
   * @param <B> the second argument's type
   * @param <C> the third argument's type
   * @param <R> the result type
   * @return the values in input order
   */
  default <A, B, C, R> List<R> starmap3(SerializableTriFunction<? super A, ? super B, ? super C, ? extends R> function,
      Iterable<? extends Args.Three<? extends A, ? extends B, ? extends C>> arguments) {
    return map(Args.spread(function), arguments);
  }

  /**
   * Applies a function of three arguments to every triple, without waiting.
   *
   * @param function the function
   * @param arguments the argument triples
   * @param <A> the first argument's type
   * @param <B> the second argument's type
   * @param <C> the third argument's type
   * @param <R> the result type
   * @return the values in input order
   */
  default <A, B, C, R> AsyncResult<List<R>> starmap3Async(
      SerializableTriFunction<? super A, ? super B, ? super C, ? extends R> function,
      Iterable<? extends Args.Three<? extends A, ? extends B, ? extends C>> arguments) {
    return mapAsync(Args.spread(function), arguments);
  }

  /**
   * Applies a function of three arguments to every triple, lazily, values in input order.
   *
   * @param function the function
   * @param arguments the argument triples
   * @param <A> the first argument's type
   * @param <B> the second argument's type
   * @param <C> the third argument's type
   * @param <R> the result type
   * @return the values in input order
   */
  default <A, B, C, R> MapResults<R> istarmap3(
      SerializableTriFunction<? super A, ? super B, ? super C, ? extends R> function,
      Iterable<? extends Args.Three<? extends A, ? extends B, ? extends C>> arguments) {
    return imap(Args.spread(function), arguments);
  }

  /**
   * Applies a function of three arguments to every triple, lazily, values in completion order.
   *
   * @param function the function
   * @param arguments the argument triples
   * @param <A> the first argument's type
   * @param <B> the second argument's type
   * @param <C> the third argument's type
   * @param <R> the result type
   * @return the values in completion order
   */
  default <A, B, C, R> MapResults<R> istarmap3Unordered(
      SerializableTriFunction<? super A, ? super B, ? super C, ? extends R> function,
      Iterable<? extends Args.Three<? extends A, ? extends B, ? extends C>> arguments) {
    return imapUnordered(Args.spread(function), arguments);
  }

  /**
   * Accepts no more work and waits until the outstanding work is done and the workers are
   * released. Idempotent.
   */
  @Override
  void close();

  /**
   * Ends the pool at once: queued calls are cancelled (their results become ready and
   * unsuccessful), running ones interrupted. When it returns, every result of this pool is ready.
   */
  void terminate();

  /**
   * Waits for the workers to be released after {@link #close()} or {@link #terminate()}.
   *
   * @throws IllegalStateException when neither was called
   * @throws InterruptedException when interrupted while waiting
   */
  void join() throws InterruptedException;

  /**
   * Returns the executor behind this pool, for the {@link java.util.concurrent.ExecutorService}
   * view of the same workers.
   *
   * @return the executor
   */
  MpiPoolExecutor executor();
}
