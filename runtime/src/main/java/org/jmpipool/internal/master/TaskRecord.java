package org.jmpipool.internal.master;

import org.jmpipool.internal.wire.HandedOver;
import org.jmpipool.internal.wire.Payload;
import org.jmpipool.internal.wire.TaskKind;
import org.jmpipool.internal.wire.TaskSeeds;
import org.jmpipool.internal.wire.ThrowableCodec;

/**
 * A task on the master, from submission until its worker answers. Created by the submitting
 * thread; from the moment it is queued for the communication thread, only that thread changes it.
 */
public final class TaskRecord {

  /** How the outcome of a task reaches its caller; called on the communication thread. */
  interface Completion {

    /**
     * The worker returned a result.
     *
     * @param result the encoded result; a view into a message is valid only during the call
     *     ({@link Payload#retain()} keeps it), and the completion releases it once decoded
     * @param executionNanos the time the worker spent on the task
     */
    void onResult(Payload result, long executionNanos);

    /**
     * The task failed on its worker, which described the failure ({@link ThrowableCodec}).
     *
     * @param encoded the description; a view into a message is valid only during the call
     *     ({@link Payload#retain()} keeps it), and the completion releases it once decoded
     */
    void onRemoteFailure(Payload encoded);

    /** The task failed here: before it got to a worker, or with its pool, or handed over as an object. */
    void onFailure(Throwable failure);

    /**
     * The task was cancelled before it started.
     *
     * @param reason why, for the caller's {@link java.util.concurrent.CancellationException}
     */
    void onNotStarted(String reason);
  }

  final TaskKind kind;
  /** The encoded task; dropped once handed to a message. */
  Payload payload;
  final Completion completion;
  /** What shutdownNow() returns for this task if it never starts. */
  final Runnable original;

  long id;
  /** The index of the worker holding the task, or -1 while it waits on the master. */
  int workerIndex = -1;
  /** The index of the only worker that may run the task, or -1 for any. */
  int target = -1;
  /** Seeds the task's random generator ({@link TaskSeeds#taskBase}). */
  long randomBase;
  /** Set when the caller cancelled it before it was sent; it is then dropped instead of sent. */
  boolean cancelled;

  /**
   * In a local pool that does not serialize, the task itself, with the outcome the worker leaves
   * in it; the frames then carry no payload. Null when the task travels as bytes.
   */
  public HandedOver handedOver;

  /** Lets go of the encoded task, when it will not be sent. */
  void dropPayload() {
    if (payload != null) {
      payload.release();
      payload = null;
    }
  }

  TaskRecord(TaskKind kind, Payload payload, Completion completion, Runnable original) {
    this.kind = kind;
    this.payload = payload;
    this.completion = completion;
    this.original = original;
  }
}
