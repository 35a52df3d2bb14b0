package org.jmpipool.internal.worker;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.jmpipool.internal.wire.Codec;
import org.jmpipool.internal.wire.Payload;

/**
 * The objects a worker holds for its pool's {@link org.jmpipool.RemoteRef}s: kept encoded when
 * they arrive (on the communication thread), decoded once on first use by a task; the encoding is
 * let go then, or when the object is freed.
 *
 * <p>A task may arrive before the object it refers to (a pushed object reaches some workers
 * through other workers): it then waits for it, up to {@link #ARRIVAL_TIMEOUT_SECONDS}.
 *
 * <p>Threads: the communication thread puts and frees; task threads get; under this object's lock,
 * and a task waits on it for an object still on its way.
 */
final class RemoteStore {

  private static final long ARRIVAL_TIMEOUT_SECONDS = 60;

  private final Codec codec;
  private final Map<Long, Stored> objects = new ConcurrentHashMap<>();
  private final Set<Long> freed = ConcurrentHashMap.newKeySet();

  /** An object's encoding, then its decoded value. */
  private static final class Stored {
    private Payload encoded;
    private Object value;

    Stored(Payload encoded) {
      this.encoded = encoded;
    }

    synchronized Object value(Codec codec, long id) {
      if (encoded != null) {
        try {
          value = codec.decodeObject("stored object #" + id, encoded);
        } finally {
          drop();
        }
      }
      return value;
    }

    synchronized void drop() {
      if (encoded != null) {
        encoded.release();
        encoded = null;
      }
    }
  }

  RemoteStore(Codec codec) {
    this.codec = codec;
  }

  /** Stores an object's encoding, which the store then holds; communication thread. */
  synchronized void put(long id, Payload encoded) {
    if (freed.contains(id)) {
      encoded.release();
      return;
    }
    objects.put(id, new Stored(encoded));
    notifyAll();
  }

  /** Frees an object; communication thread. */
  synchronized void free(long id) {
    freed.add(id);
    Stored stored = objects.remove(id);
    if (stored != null) {
      stored.drop();
    }
    notifyAll();
  }

  int size() {
    return objects.size();
  }

  /**
   * Returns the decoded object; task threads.
   *
   * @throws IllegalStateException when it was freed, or does not arrive in time
   */
  Object get(long id) {
    Stored stored = objects.get(id);
    if (stored == null) {
      stored = await(id);
    }
    return stored.value(codec, id);
  }

  private synchronized Stored await(long id) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(ARRIVAL_TIMEOUT_SECONDS);
    while (true) {
      if (freed.contains(id)) {
        throw new IllegalStateException("RemoteRef #" + id + " was closed (freed on the workers) before this task"
            + " used it");
      }
      Stored stored = objects.get(id);
      if (stored != null) {
        return stored;
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new IllegalStateException("RemoteRef #" + id + " is not stored on this worker: it belongs to"
            + " another pool, or did not arrive within " + ARRIVAL_TIMEOUT_SECONDS + " s");
      }
      try {
        wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for RemoteRef #" + id, e);
      }
    }
  }
}
