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
  /** Seeds the task's random generator ({@link RunningTask#randomBase}). */
  final long randomBase;
  /** The encoded task; dropped when it starts. */
  byte[] payload;
  /** In a local pool that does not serialize, the master's record of the task, run as it is. */
  TaskRecord direct;
  /** Set by the task thread: {@link Wire#RESULT} or {@link Wire#FAILED}, with its payload. */
  byte resultType;
  ByteBuffer result;
  long executionNanos;
  private final AtomicInteger state = new AtomicInteger(QUEUED);

  WorkerTask(long id, TaskKind kind, long randomBase, byte[] payload) {
    this.id = id;
    this.kind = kind;
    this.randomBase = randomBase;
    this.payload = payload;
  }

  /** The thread running the task, while it runs; guarded by this. */
  private Thread runner;

  /** Claims the task for running on the calling thread; false when it was cancelled first. */
  boolean start() {
    if (!state.compareAndSet(QUEUED, STARTED)) {
      return false;
    }
    synchronized (this) {
      runner = Thread.currentThread();
    }
    return true;
  }

  /** Ends the run; an interrupt meant for the task never reaches the thread's next task. */
  void finishRunning() {
    synchronized (this) {
      runner = null;
      Thread.interrupted();
    }
  }

  /** Interrupts the thread running the task, if it still runs it. */
  synchronized void interruptIfRunning() {
    if (runner != null) {
      runner.interrupt();
    }
  }

  /** Cancels the task if it has not started; false when it has. */
  boolean cancelBeforeStart() {
    return state.compareAndSet(QUEUED, CANCELLED);
  }
}
