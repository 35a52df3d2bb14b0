package org.jmpipool;

import java.util.Collection;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * An {@link ExecutorService} whose tasks run in worker processes of an MPI job.
 *
 * <p>Tasks, their arguments and their results are serialized (with Kryo), sent to a worker, run
 * there and sent back. A task is therefore a serializable lambda, method reference or object: the
 * overloads taking {@link SerializableCallable}, {@link SerializableRunnable} and
 * {@link SerializableFunction} make a plain lambda serializable with no cast. Whatever the task
 * captures is copied to the worker; changes it makes there are not seen here.
 *
 * <p>The semantics are those of the JDK's executors: futures complete with the task's result, or
 * exceptionally with the task's exception (rebuilt here, its remote stack trace kept, a
 * {@link RemoteOrigin} naming the worker attached), or are cancelled. A task that cannot be
 * serialized, or whose result cannot be, fails its own future with a
 * {@link TaskSerializationException}; the pool keeps working. {@link #shutdown()} is orderly,
 * {@link #shutdownNow()} cancels queued tasks and interrupts running ones on the workers, and
 * every future ends done or cancelled. Many threads may use one executor at once.
 *
 * <p>Serialization runs without class registration: a stream received from a worker may
 * instantiate any class on the classpath. All processes of a job are the same user's program, so
 * this is the same trust as the program itself; do not connect untrusted processes to a job.
 */
public interface MpiPoolExecutor extends ExecutorService, AutoCloseable {

  /**
   * Returns the number of worker processes serving this executor.
   *
   * @return the number of workers, 0 when the job has a single rank
   */
  int workers();

  /**
   * Submits a task whose result is sent back.
   *
   * @param task the task; it must be serializable
   * @param <T> the result type
   * @return the future of the result; it fails with a {@link TaskSerializationException} when the
   *     task is not serializable
   * @throws java.util.concurrent.RejectedExecutionException after shutdown
   */
  @Override
  <T> CompletableFuture<T> submit(Callable<T> task);

  /**
   * Submits a task given as a lambda or method reference, which is made serializable.
   *
   * @param task the task
   * @param <T> the result type
   * @return the future of the result
   * @throws java.util.concurrent.RejectedExecutionException after shutdown
   */
  <T> CompletableFuture<T> submit(SerializableCallable<T> task);

  /**
   * Submits a task with no result.
   *
   * @param task the task; it must be serializable
   * @return a future completed with {@code null} when the task has run
   * @throws java.util.concurrent.RejectedExecutionException after shutdown
   */
  @Override
  CompletableFuture<?> submit(Runnable task);

  /**
   * Submits a task with no result, given as a lambda or method reference.
   *
   * @param task the task
   * @return a future completed with {@code null} when the task has run
   * @throws java.util.concurrent.RejectedExecutionException after shutdown
   */
  CompletableFuture<?> submit(SerializableRunnable task);

  /**
   * Submits a task with no result; the future completes with the given value. The value stays
   * here: it is not sent to the worker.
   *
   * @param task the task; it must be serializable
   * @param result the value of the future once the task has run
   * @param <T> the type of the value
   * @return the future
   * @throws java.util.concurrent.RejectedExecutionException after shutdown
   */
  @Override
  <T> CompletableFuture<T> submit(Runnable task, T result);

  /**
   * Submits {@code function.apply(argument)}, as {@code mpi4py}'s {@code submit(fn, arg)}.
   *
   * @param function the function, sent with the argument
   * @param argument its argument
   * @param <T> the argument type
   * @param <R> the result type
   * @return the future of the result
   * @throws java.util.concurrent.RejectedExecutionException after shutdown
   */
  <T, R> CompletableFuture<R> submit(SerializableFunction<? super T, ? extends R> function, T argument);

  /**
   * Applies a function to every input, in parallel on the workers, with the
   * {@linkplain MapOptions#defaults() default options}.
   *
   * @param function the function
   * @param inputs the inputs; iterated lazily, on the calling thread
   * @param <T> the input type
   * @param <R> the result type
   * @return the results in input order
   * @throws java.util.concurrent.RejectedExecutionException after shutdown
   */
  <T, R> MapResults<R> map(SerializableFunction<? super T, ? extends R> function, Iterable<? extends T> inputs);

  /**
   * Applies a function to every input, in parallel on the workers.
   *
   * @param function the function
   * @param inputs the inputs; iterated lazily, on the calling thread, and at most
   *     {@link MapOptions#maxInFlight()} ahead of the caller
   * @param options chunking, bound, deadline and order
   * @param <T> the input type
   * @param <R> the result type
   * @return the results
   * @throws java.util.concurrent.RejectedExecutionException after shutdown
   */
  <T, R> MapResults<R> map(
      SerializableFunction<? super T, ? extends R> function, Iterable<? extends T> inputs, MapOptions options);

  /**
   * Applies a function to every element of a stream, in parallel on the workers. The stream is
   * consumed lazily (an infinite stream works with a bounded consumer) and closed with the
   * results.
   *
   * @param function the function
   * @param inputs the inputs
   * @param options chunking, bound, deadline and order
   * @param <T> the input type
   * @param <R> the result type
   * @return the results
   * @throws java.util.concurrent.RejectedExecutionException after shutdown
   */
  <T, R> MapResults<R> map(
      SerializableFunction<? super T, ? extends R> function, Stream<? extends T> inputs, MapOptions options);

  /**
   * {@inheritDoc}
   *
   * <p>The returned futures are {@link CompletableFuture}s.
   */
  @Override
  <T> List<Future<T>> invokeAll(Collection<? extends Callable<T>> tasks) throws InterruptedException;

  /**
   * {@inheritDoc}
   *
   * <p>The returned futures are {@link CompletableFuture}s; those not done by the deadline are
   * cancelled.
   */
  @Override
  <T> List<Future<T>> invokeAll(Collection<? extends Callable<T>> tasks, long timeout, TimeUnit unit)
      throws InterruptedException;

  /** {@inheritDoc} The other tasks are cancelled once one succeeds. */
  @Override
  <T> T invokeAny(Collection<? extends Callable<T>> tasks) throws InterruptedException, ExecutionException;

  /** {@inheritDoc} The other tasks are cancelled once one succeeds or the time is up. */
  @Override
  <T> T invokeAny(Collection<? extends Callable<T>> tasks, long timeout, TimeUnit unit)
      throws InterruptedException, ExecutionException, TimeoutException;

  /**
   * Runs a serializable task for its side effects. A failure has no future to go to: it is logged
   * with its remote stack trace.
   *
   * @param task the task; it must implement {@link java.io.Serializable}
   * @throws java.util.concurrent.RejectedExecutionException after shutdown, and for a task that
   *     is not serializable (such as the wrapper {@code CompletableFuture.supplyAsync} passes; use
   *     {@link #submit(SerializableCallable)}, which returns a {@code CompletableFuture})
   */
  @Override
  void execute(Runnable task);

  /** Shuts down in order and waits for all tasks to finish, like {@code ExecutorService.close()} in JDK 19+. */
  @Override
  void close();
}
