package org.jmpipool.internal.worker;

import org.jmpipool.internal.wire.HandedOver;
import org.jmpipool.internal.wire.Payload;
import org.jmpipool.internal.wire.TaskKind;
import org.jmpipool.internal.wire.TaskSeeds;
import org.jmpipool.internal.wire.Wire;

/**
 * A task on a worker, from its arrival until its result is sent.
 *
 * <p>Threads: created and cancelled by the worker's communication thread, run by a task thread; its
 * start, cancellation and interrupt go through its lock.
 */
final class WorkerTask {

  private enum State { QUEUED, RUNNING, CANCELLED, ENDED }

  final long id;
  final TaskKind kind;
  /** Seeds the task's random generator ({@link TaskSeeds#taskBase}). */
  final long randomBase;
  /** The encoded task; released once decoded. */
  Payload payload;
  /** In a local pool that does not serialize, the task itself, run as it is; else {@code null}. */
  HandedOver handedOver;
  /** Set by the task thread: {@link Wire#RESULT} or {@link Wire#FAILED}, with its payload. */
  byte resultType;
  Payload result;
  long executionNanos;
  /** Guarded by this, with {@link #runner}: a cancel sees either a queued task or a thread to interrupt. */
  private State state = State.QUEUED;
  /** The thread running the task, while it runs; guarded by this. */
  private Thread runner;

  WorkerTask(long id, TaskKind kind, long randomBase, Payload payload) {
    this.id = id;
    this.kind = kind;
    this.randomBase = randomBase;
    this.payload = payload;
  }

  /**
   * Claims the task for running on the calling thread; false when it was cancelled first. An
   * interrupt left over from before is cleared: it was not meant for this task.
   */
  synchronized boolean start() {
    if (state != State.QUEUED) {
      return false;
    }
    Thread.interrupted();
    state = State.RUNNING;
    runner = Thread.currentThread();
    return true;
  }

  /** Ends the run; an interrupt meant for the task never reaches the thread's next task. */
  synchronized void finishRunning() {
    state = State.ENDED;
    runner = null;
    Thread.interrupted();
  }

  /** Interrupts the thread running the task, if it still runs it. */
  synchronized void interruptIfRunning() {
    if (runner != null) {
      runner.interrupt();
    }
  }

  /** Cancels the task if it has not started; false when it has. */
  synchronized boolean cancelBeforeStart() {
    if (state != State.QUEUED) {
      return false;
    }
    state = State.CANCELLED;
    return true;
  }
}
