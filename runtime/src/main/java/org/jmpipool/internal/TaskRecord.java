package org.jmpipool.internal;

import java.nio.ByteBuffer;

/**
 * A task on the master, from submission until its worker answers. Created by the submitting
 * thread; from the moment it is queued for the communication thread, only that thread changes it.
 */
final class TaskRecord {

  /** How the outcome of a task reaches its caller; called on the communication thread. */
  interface Completion {

    /**
     * The worker returned a result.
     *
     * @param message the message, positioned at the encoded result; valid only during the call
     * @param length the length of the encoded result
     * @param executionNanos the time the worker spent on the task
     */
    void onResult(ByteBuffer message, int length, long executionNanos);

    /** The task failed, on the worker or before it got there. */
    void onFailure(Throwable failure);

    /** The task was cancelled before it started. */
    void onNotStarted();
  }

  final TaskKind kind;
  /** The encoded task; dropped once handed to a message. */
  ByteBuffer payload;
  final Completion completion;
  /** What shutdownNow() returns for this task if it never starts. */
  final Runnable original;

  long id;
  /** The worker holding the task, or -1 while it waits on the master. */
  int worker = -1;
  /** Set when the caller cancelled it before it was sent; it is then dropped instead of sent. */
  boolean cancelled;

  TaskRecord(TaskKind kind, ByteBuffer payload, Completion completion, Runnable original) {
    this.kind = kind;
    this.payload = payload;
    this.completion = completion;
    this.original = original;
  }
}
