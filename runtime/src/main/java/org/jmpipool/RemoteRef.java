package org.jmpipool;

/**
 * A handle to an object stored on the workers of a {@link WorkerPool}, made by
 * {@link WorkerPool#push} (the same object on every worker) or {@link WorkerPool#scatter} (a part
 * on each). Tasks of the pool that receive the handle, as an argument or captured by a lambda,
 * read their worker's copy with {@link #get()}: the object travels to the workers once, not with
 * every task.
 *
 * <p>Close the handle to free the workers' copies (try-with-resources works); a handle that
 * becomes unreachable on the master is freed too, some time after. Tasks already submitted with
 * a handle keep it alive until they end. Using a handle after it was closed is an
 * {@link IllegalStateException} on the master, and fails the task on a worker.
 *
 * @param <T> the type of the stored object
 */
public interface RemoteRef<T> extends AutoCloseable {

  /**
   * Returns the handle's number, unique within the master's JVM, for messages and logs.
   *
   * @return the number
   */
  long id();

  /**
   * Returns this worker's copy of the object; only inside a task of the pool that stores it.
   * The copy is decoded on first use and shared by the worker's tasks: treat it as read-only, or
   * synchronize when a worker runs several task threads.
   *
   * @return the worker's copy
   * @throws IllegalStateException outside such a task, or when the object was freed
   */
  T get();

  /**
   * Returns whether this handle has been closed.
   *
   * @return whether it was closed
   */
  boolean isClosed();

  /** Frees the workers' copies once no other handle to them is open; idempotent. */
  @Override
  void close();
}
