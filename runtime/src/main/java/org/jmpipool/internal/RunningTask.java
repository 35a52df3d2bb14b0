package org.jmpipool.internal;

import org.jmpipool.TaskContext;

/** Holds the {@link TaskContext} of the task threads of a worker. */
public final class RunningTask {

  private static final ThreadLocal<TaskContext> CURRENT = new ThreadLocal<>();

  private RunningTask() {
  }

  static void bind(TaskContext context) {
    CURRENT.set(context);
  }

  /** Returns whether the calling thread runs tasks. */
  static boolean isBound() {
    return CURRENT.get() != null;
  }

  /** Returns the context of the calling task thread, or {@code null} outside tasks. */
  public static TaskContext currentOrNull() {
    return CURRENT.get();
  }

  /**
   * Returns the context of the calling task thread.
   *
   * @return the context
   * @throws IllegalStateException outside a task
   */
  public static TaskContext context() {
    TaskContext context = CURRENT.get();
    if (context == null) {
      throw new IllegalStateException("TaskContext.current() is available only inside a task running on a pool worker");
    }
    return context;
  }

  /** A worker's context: the same for all its tasks. */
  record WorkerContext(int rank, int worldSize, String host) implements TaskContext {
  }
}
