package org.jmpipool.internal;

import com.esotericsoftware.kryo.kryo5.Kryo;
import com.esotericsoftware.kryo.kryo5.Serializer;
import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;
import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.jmpipool.RemoteRef;

/**
 * The master's side of a {@link org.jmpipool.WorkerPool}'s stored objects. Each stored object
 * ({@link Shared}) counts its holders: the open handles to it and the tasks in flight that use
 * it; the workers drop it when the count reaches 0. A handle that is closed, or collected
 * without being closed, lets go of its share.
 */
final class StoredObjects {

  private static final AtomicLong IDS = new AtomicLong();
  private static final Cleaner CLEANER = Cleaner.create();

  private final MasterAgent agent;
  private final Codec codec;
  /** Objects pushed to every worker, by identity, while stored: pushing one again may reuse it. */
  private final Map<Object, Shared> pushed = new IdentityHashMap<>();

  StoredObjects(MasterAgent agent, Codec codec) {
    this.agent = agent;
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
      agent.storeEverywhere(shared.id, encoded);
      return new Handle<>(this, shared);
    }
  }

  /** Stores one part of a list on each worker, in order. */
  <T> RemoteRef<List<T>> scatter(List<T> items) {
    int workers = agent.workerCount();
    List<Payload> parts = new ArrayList<>(workers);
    for (int worker = 0; worker < workers; worker++) {
      List<T> part = new ArrayList<>(items.subList(items.size() * worker / workers, items.size() * (worker + 1) / workers));
      parts.add(codec.encodeObject("scattered part", part));
    }
    Shared shared = new Shared(IDS.incrementAndGet(), null, null);
    for (int worker = 0; worker < workers; worker++) {
      agent.storeOn(worker, shared.id, parts.get(worker));
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
      agent.free(id);
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
      return (T) copyOnThisWorker(shared.id);
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

  /** A handle as a task on a worker sees it: it reads that worker's copy. */
  static final class WorkerCopy<T> implements RemoteRef<T> {
    private final long id;

    WorkerCopy(long id) {
      this.id = id;
    }

    @Override
    public long id() {
      return id;
    }

    @Override
    @SuppressWarnings("unchecked")
    public T get() {
      return (T) copyOnThisWorker(id);
    }

    /** Only the master's handle frees the copies. */
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

  private static Object copyOnThisWorker(long id) {
    RunningTask task = RunningTask.onThisThread();
    if (task == null) {
      throw new IllegalStateException("RemoteRef.get() reads a worker's copy: call it inside a task of the pool that"
          + " stored it (pass the RemoteRef to the task)");
    }
    return task.worker().store.get(id);
  }

  /** Writes a handle as its number; a worker reads it as a {@link WorkerCopy}. */
  static final class RefSerializer extends Serializer<RemoteRef<?>> {

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
