package org.jmpipool.internal;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicInteger;

/** A task on a worker, from its arrival until its result is sent. */
final class WorkerTask {

  private static final int QUEUED = 0;
  private static final int STARTED = 1;
  private static final int CANCELLED = 2;

  final long id;
  final TaskKind kind;
  /** The encoded task; dropped when it starts. */
  byte[] payload;
  /** In a local pool that does not serialize, the master's record of the task, run as it is. */
  TaskRecord direct;
  /** Set by the task thread: {@link Wire#RESULT} or {@link Wire#FAILED}, with its payload. */
  byte resultType;
  ByteBuffer result;
  long executionNanos;
  private final AtomicInteger state = new AtomicInteger(QUEUED);

  WorkerTask(long id, TaskKind kind, byte[] payload) {
    this.id = id;
    this.kind = kind;
    this.payload = payload;
  }

  /** Claims the task for running; false when it was cancelled first. */
  boolean start() {
    return state.compareAndSet(QUEUED, STARTED);
  }

  /** Cancels the task if it has not started; false when it has. */
  boolean cancelBeforeStart() {
    return state.compareAndSet(QUEUED, CANCELLED);
  }
}
