package org.jmpipool.internal.worker;

import org.jmpipool.RemoteRef;

/**
 * A {@link RemoteRef} as a task on a worker sees it once it arrived there as its number: it reads
 * that worker's copy of the stored object. Only the master's handle frees the copies.
 *
 * <p>Threads: a worker's task threads.
 */
public final class WorkerCopy<T> implements RemoteRef<T> {

  private final long id;

  public WorkerCopy(long id) {
    this.id = id;
  }

  /**
   * Returns the copy of stored object {@code id} on the worker whose task runs on this thread.
   *
   * @throws IllegalStateException outside a task
   */
  public static Object onThisWorker(long id) {
    RunningTask task = RunningTask.onThisThread();
    if (task == null) {
      throw new IllegalStateException("RemoteRef.get() reads a worker's copy: call it inside a task of the pool that"
          + " stored it (pass the RemoteRef to the task)");
    }
    return task.worker().store.get(id);
  }

  @Override
  public long id() {
    return id;
  }

  @Override
  @SuppressWarnings("unchecked")
  public T get() {
    return (T) onThisWorker(id);
  }

  /** A task's copy of a handle is never closed: the master's handle decides. */
  @Override
  public boolean isClosed() {
    return false;
  }

  @Override
  public void close() {
    // The copies belong to the master's handle; a task's copy of the handle does not free them.
  }

  @Override
  public String toString() {
    return "RemoteRef#" + id;
  }
}
