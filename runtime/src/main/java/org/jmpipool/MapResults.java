package org.jmpipool;

import java.util.Iterator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The lazily produced results of a map. Like {@link java.nio.file.DirectoryStream}, it is an
 * {@link Iterable} that can be iterated once, and it should be closed:
 *
 * <pre>{@code
 * try (MapResults<Double> results = pool.map(Model::simulate, parameters)) {
 *   for (double r : results) { ... }
 * }
 * }</pre>
 *
 * <p>Iteration waits for the next result. When the task of an item failed, the results before it
 * are delivered first, then {@code next()} throws a {@link java.util.concurrent.CompletionException}
 * whose cause is the task's exception. The deadline ({@link MapOptions#timeout}) counts from the
 * call that started the map and is checked while waiting for a result that has not arrived, as in
 * Python: a missed one throws a {@code CompletionException} caused by a
 * {@link java.util.concurrent.TimeoutException}; results that arrived in time are delivered
 * however late they are read. An interrupt of the waiting thread throws a
 * {@link java.util.concurrent.CancellationException} and keeps the thread's interrupt status.
 * After any of these, or after {@link #close()}, the unfinished work is cancelled, the item being
 * waited for included (its task is interrupted on its worker). Work is also cancelled when the
 * results become unreachable without being closed, but not promptly: close them.
 *
 * @param <R> the result type
 */
public interface MapResults<R> extends Iterable<R>, AutoCloseable {

  /**
   * Returns the iterator over the results.
   *
   * @return the iterator
   * @throws IllegalStateException when called a second time
   */
  @Override
  Iterator<R> iterator();

  /**
   * Returns the results as a sequential stream; closing the stream closes these results.
   *
   * @return the stream
   * @throws IllegalStateException when the results are already being iterated
   */
  Stream<R> stream();

  /**
   * Waits for all results and returns them in a list (in the order the options ask for).
   *
   * @return the results
   * @throws java.util.concurrent.CompletionException when a task failed or the deadline passed
   */
  List<R> toList();

  /**
   * Cancels the work not yet done; results not yet handed out are dropped. Idempotent, and
   * callable from any thread: a reader waiting meanwhile, or reading on, gets a
   * {@link java.util.concurrent.CancellationException}.
   */
  @Override
  void close();
}
