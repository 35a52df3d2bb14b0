package org.jmpipool.internal.master;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.jmpipool.internal.wire.Payload;

/**
 * Notes the {@link org.jmpipool.RemoteRef}s met while a task is encoded on the master. Each one
 * is checked (open, and stored by the pool the task goes to) and held for the task, so that the
 * workers keep the object until the task ends, even if every handle is closed or collected
 * meanwhile.
 *
 * <p>Threads: the thread that encodes a task (the capture is thread-local); the hold ends on
 * whichever thread completes the task.
 */
final class RefCapture {

  private static final ThreadLocal<RefCapture> CURRENT = new ThreadLocal<>();

  private final StoredObjects owner;
  private final List<StoredObjects.Shared> held = new ArrayList<>();

  private RefCapture(StoredObjects owner) {
    this.owner = owner;
  }

  /** An encoded task and the stored objects it holds. */
  record Encoded(Payload payload, List<StoredObjects.Shared> refs) {

    static final Encoded NOTHING = new Encoded(Payload.EMPTY, List.of());

    /** Wraps a task's completion so that the objects are let go once the task ends. */
    TaskRecord.Completion holding(TaskRecord.Completion completion) {
      if (refs.isEmpty()) {
        return completion;
      }
      AtomicBoolean released = new AtomicBoolean();
      Runnable release = () -> {
        if (released.compareAndSet(false, true)) {
          refs.forEach(StoredObjects.Shared::release);
        }
      };
      return new TaskRecord.Completion() {
        @Override
        public void onResult(Payload result, long executionNanos) {
          completion.onResult(result, executionNanos);
          release.run();
        }

        @Override
        public void onRemoteFailure(Payload encoded) {
          completion.onRemoteFailure(encoded);
          release.run();
        }

        @Override
        public void onFailure(Throwable failure) {
          completion.onFailure(failure);
          release.run();
        }

        @Override
        public void onNotStarted(String reason) {
          completion.onNotStarted(reason);
          release.run();
        }
      };
    }
  }

  /**
   * Runs an encoding, capturing the references it writes.
   *
   * @param owner the stored objects of the pool the task goes to, or {@code null} when it is not
   *     a {@link org.jmpipool.WorkerPool}
   */
  static Encoded encode(StoredObjects owner, Supplier<Payload> encoding) {
    if (owner == null) {
      // No pool of handles: a handle met now fails the encoding (note() finds no capture), and
      // ordinary tasks skip the bookkeeping.
      return new Encoded(encoding.get(), List.of());
    }
    RefCapture previous = CURRENT.get();
    RefCapture capture = new RefCapture(owner);
    CURRENT.set(capture);
    try {
      Payload payload = encoding.get();
      return new Encoded(payload, capture.held.isEmpty() ? List.of() : List.copyOf(capture.held));
    } catch (RuntimeException | Error e) {
      capture.held.forEach(StoredObjects.Shared::release);
      throw e;
    } finally {
      CURRENT.set(previous);
    }
  }

  /**
   * Called by the serializer for a handle being written on the master.
   *
   * @throws IllegalStateException when the handle is closed, or belongs to another pool
   */
  static void note(StoredObjects.Handle<?> handle) {
    RefCapture capture = CURRENT.get();
    if (capture == null || capture.owner != handle.owner()) {
      throw StoredObjects.foreign(handle.id());
    }
    capture.held.add(handle.acquireForTask());
  }
}
