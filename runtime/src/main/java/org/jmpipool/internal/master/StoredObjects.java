package org.jmpipool.internal.master;

import com.esotericsoftware.kryo.kryo5.Kryo;
import com.esotericsoftware.kryo.kryo5.Serializer;
import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;
import java.lang.ref.Cleaner;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.jmpipool.RemoteRef;
import org.jmpipool.internal.wire.Codec;
import org.jmpipool.internal.wire.Payload;
import org.jmpipool.internal.worker.WorkerCopy;

/**
 * The master's side of a {@link org.jmpipool.WorkerPool}'s stored objects. Each stored object
 * ({@link Shared}) counts its holders: the open handles to it and the tasks in flight that use
 * it; the workers drop it when the count reaches 0. A handle that is closed, or collected
 * without being closed, lets go of its share.
 *
 * <p>Threads: any: handles are made and closed by any thread, collected ones let go on the
 * cleaner's; the stored objects are guarded by this, each one's count of holders by itself.
 */
public final class StoredObjects {

  private static final AtomicLong IDS = new AtomicLong();
  private static final Cleaner CLEANER = Cleaner.create();

  private final MasterProxy master;
  private final Codec codec;
  /** Objects pushed to every worker, by identity, while stored: pushing one again may reuse it. */
  private final Map<Object, Shared> pushed = new IdentityHashMap<>();

  StoredObjects(MasterProxy master, Codec codec) {
    this.master = master;
    this.codec = codec;
  }

  /**
   * Stores an object on every worker, or reuses its copies when the same object, unchanged, is
   * stored already.
   */
  <T> RemoteRef<T> push(T object) {
    Payload encoded = codec.encode("pushed object", object,
        (kryo, output) -> Codec.writePart(kryo, output, "pushed object", object));
    byte[] digest = encoded.sha256();
    synchronized (this) {
      Shared existing = pushed.get(object);
      if (existing != null && Arrays.equals(existing.digest, digest) && existing.tryAcquire()) {
        encoded.release();
        return new Handle<>(this, existing);
      }
      Shared shared = new Shared(IDS.incrementAndGet(), object, digest);
      pushed.put(object, shared);
      master.storeEverywhere(shared.id, encoded);
      return new Handle<>(this, shared);
    }
  }

  /** Stores one part of a list on each worker, in order. */
  <T> RemoteRef<List<T>> scatter(List<T> items) {
    int workers = master.workerCount();
    List<Payload> parts = new ArrayList<>(workers);
    for (int worker = 0; worker < workers; worker++) {
      List<T> part = new ArrayList<>(items.subList(items.size() * worker / workers, items.size() * (worker + 1) / workers));
      parts.add(codec.encodeObject("scattered part", part));
    }
    Shared shared = new Shared(IDS.incrementAndGet(), null, null);
    for (int worker = 0; worker < workers; worker++) {
      master.storeOn(worker, shared.id, parts.get(worker));
    }
    return new Handle<>(this, shared);
  }

  /**
   * Checks, at call time, that a handle can be given to this pool's tasks.
   *
   * @throws IllegalStateException when it is closed or belongs to another pool
   */
  void checkUsable(RemoteRef<?> ref) {
    if (!(ref instanceof Handle<?> handle) || handle.owner() != this) {
      throw foreign(ref.id());
    }
    if (handle.isClosed()) {
      throw closed(ref.id());
    }
  }

  /** The error of a handle used by a task of a pool that did not store it. */
  static IllegalStateException foreign(long id) {
    return new IllegalStateException("RemoteRef #" + id + " can only be used by tasks of the WorkerPool that stored it");
  }

  /** The error of a handle used after it was closed. */
  static IllegalStateException closed(long id) {
    return new IllegalStateException("RemoteRef #" + id + " was closed; it cannot be used any more");
  }

  private synchronized void forget(Shared shared) {
    if (shared.object != null && pushed.get(shared.object) == shared) {
      pushed.remove(shared.object);
    }
  }

  /** One stored object and the count of its holders. */
  final class Shared {
    final long id;
    /** The pushed object, kept to recognize it; {@code null} for scattered parts. */
    private final Object object;
    /** The SHA-256 of the pushed object's encoding, to tell whether it changed; {@code null} for scattered parts. */
    private final byte[] digest;
    private int holders = 1;

    private Shared(long id, Object object, byte[] digest) {
      this.id = id;
      this.object = object;
      this.digest = digest;
    }

    /** Adds a holder unless the object is already being dropped. */
    synchronized boolean tryAcquire() {
      if (holders == 0) {
        return false;
      }
      holders++;
      return true;
    }

    void release() {
      synchronized (this) {
        if (--holders > 0) {
          return;
        }
      }
      forget(this);
      master.free(id);
    }
  }

  /** A handle on the master; collected handles let go of their share through the cleaner. */
  static final class Handle<T> implements RemoteRef<T> {
    private final StoredObjects owner;
    private final Shared shared;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Cleaner.Cleanable cleanable;

    Handle(StoredObjects owner, Shared shared) {
      this.owner = owner;
      this.shared = shared;
      this.cleanable = CLEANER.register(this, shared::release);
    }

    StoredObjects owner() {
      return owner;
    }

    /** Holds the object for a task that uses this handle. */
    Shared acquireForTask() {
      if (closed.get() || !shared.tryAcquire()) {
        throw closed(shared.id);
      }
      return shared;
    }

    @Override
    public long id() {
      return shared.id;
    }

    @Override
    @SuppressWarnings("unchecked")
    public T get() {
      if (closed.get()) {
        throw closed(shared.id);
      }
      return (T) WorkerCopy.onThisWorker(shared.id);
    }

    @Override
    public boolean isClosed() {
      return closed.get();
    }

    @Override
    public void close() {
      if (closed.compareAndSet(false, true)) {
        cleanable.clean();
      }
    }

    @Override
    public String toString() {
      return "RemoteRef#" + shared.id + (closed.get() ? "[closed]" : "");
    }
  }

  /**
   * Registers how handles travel on a Kryo instance: as their number, noted for the task being
   * encoded on the master ({@link RefCapture}), read back on a worker as a {@link WorkerCopy}.
   */
  public static void registerSerializer(Kryo kryo) {
    kryo.addDefaultSerializer(RemoteRef.class, RefSerializer.INSTANCE);
  }

  /** Writes a handle as its number; a worker reads it as a {@link WorkerCopy}. */
  private static final class RefSerializer extends Serializer<RemoteRef<?>> {
    static final RefSerializer INSTANCE = new RefSerializer();

    @Override
    public void write(Kryo kryo, Output output, RemoteRef<?> ref) {
      if (ref instanceof Handle<?> handle) {
        RefCapture.note(handle);
      }
      output.writeVarLong(Objects.requireNonNull(ref).id(), true);
    }

    @Override
    public RemoteRef<?> read(Kryo kryo, Input input, Class<? extends RemoteRef<?>> type) {
      return new WorkerCopy<>(input.readVarLong(true));
    }
  }
}
