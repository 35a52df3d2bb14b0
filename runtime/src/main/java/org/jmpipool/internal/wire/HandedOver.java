package org.jmpipool.internal.wire;

import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Function;

/**
 * A task of a local pool that does not serialize, handed to its worker as the object itself: its
 * frames carry only its id, by which the worker finds it, and the worker leaves the outcome here
 * before it sends the frame saying the task is done. A chunk of a map is its function and items,
 * which the worker applies item by item, as it does a serialized chunk.
 *
 * <p>Threads: created by the submitting thread, run and completed by a worker's task thread, read
 * by the master's side once the worker's frame has arrived (the frame's passage through the
 * in-process network orders the two).
 */
public final class HandedOver {

  private final Callable<?> task;
  private final Function<Object, ?> function;
  private final List<Object> items;
  private volatile Object value;
  private volatile Throwable failure;

  /** What a chunk leaves: the values of its items before the first failure, and that failure or {@code null}. */
  public record ChunkOutcome(List<Object> values, Throwable failure) {
  }

  private HandedOver(Callable<?> task, Function<Object, ?> function, List<Object> items) {
    this.task = task;
    this.function = function;
    this.items = items;
  }

  /** A task whose value is its result (an initializer's value becomes the worker's state). */
  public static HandedOver task(Callable<?> task) {
    return new HandedOver(task, null, null);
  }

  /** A chunk of a map: the worker leaves a {@link ChunkOutcome}. */
  public static HandedOver chunk(Function<Object, ?> function, List<Object> items) {
    return new HandedOver(null, function, items);
  }

  /** Returns the task; {@code null} for a chunk. */
  public Callable<?> task() {
    return task;
  }

  /** Returns a chunk's function. */
  public Function<Object, ?> function() {
    return function;
  }

  /** Returns a chunk's items. */
  public List<Object> items() {
    return items;
  }

  /** The task returned a value (a chunk: its {@link ChunkOutcome}). */
  public void succeeded(Object result) {
    value = result;
  }

  /** The task threw; the failure carries its {@link org.jmpipool.RemoteOrigin}. */
  public void failed(Throwable thrown) {
    failure = thrown;
  }

  /** Returns what the task returned, once the worker said it succeeded. */
  public Object value() {
    return value;
  }

  /** Returns what the task threw, once the worker said it failed. */
  public Throwable failure() {
    return failure;
  }
}
