package org.jmpipool.internal.transport;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.ref.Cleaner;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Direct buffers that can be freed the moment they are no longer needed. A direct buffer is
 * otherwise freed only when the garbage collector finds it unreachable, which after a large
 * payload, with little garbage on the heap, may be never: its memory stays resident.
 *
 * <p>Before Java 22 a buffer comes from {@link ByteBuffer#allocateDirect} and is freed through
 * {@code sun.misc.Unsafe.invokeCleaner}. From Java 22 on (where that method is deprecated, and
 * from 24 warns) it is the memory of a shared {@code java.lang.foreign.Arena}, reached through
 * method handles so that this class compiles for Java 17, and freed by closing the arena; an
 * arena whose buffer is dropped without being freed is closed when the buffer is collected.
 *
 * <p>Freeing is for the owner of a buffer only, once nothing (MPI included) uses it any more: the
 * memory is gone at once.
 *
 * <p>Threads: any.
 */
public final class NativeMemory {

  private static final Strategy STRATEGY = Runtime.version().feature() >= 22 ? new Arenas() : new Cleaners();

  private NativeMemory() {
  }

  /**
   * Allocates a direct buffer in native byte order.
   *
   * @param capacity its capacity
   * @return the buffer, zeroed
   * @throws OutOfMemoryError when the memory cannot be had
   */
  public static ByteBuffer allocate(int capacity) {
    return STRATEGY.allocate(capacity).order(ByteOrder.nativeOrder());
  }

  /**
   * Frees a buffer made by {@link #allocate} at once; it must not be used afterwards.
   *
   * @param buffer the buffer allocate returned (not a slice or duplicate of it)
   */
  public static void free(ByteBuffer buffer) {
    STRATEGY.free(buffer);
  }

  private interface Strategy {
    ByteBuffer allocate(int capacity);

    void free(ByteBuffer buffer);
  }

  /** Java 17 to 21: the JDK's own direct buffers, freed by running their cleaner. */
  private static final class Cleaners implements Strategy {
    private final MethodHandle invokeCleaner;

    Cleaners() {
      MethodHandle handle;
      try {
        Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
        Field theUnsafe = unsafeClass.getDeclaredField("theUnsafe");
        theUnsafe.setAccessible(true);
        handle = MethodHandles.lookup()
            .findVirtual(unsafeClass, "invokeCleaner", MethodType.methodType(void.class, ByteBuffer.class))
            .bindTo(theUnsafe.get(null));
      } catch (ReflectiveOperationException | RuntimeException e) {
        // Without jdk.unsupported the buffers are left to the garbage collector.
        handle = null;
      }
      this.invokeCleaner = handle;
    }

    @Override
    public ByteBuffer allocate(int capacity) {
      return ByteBuffer.allocateDirect(capacity);
    }

    @Override
    public void free(ByteBuffer buffer) {
      if (invokeCleaner == null) {
        return;
      }
      try {
        invokeCleaner.invokeExact(buffer);
      } catch (Throwable e) {
        throw new IllegalStateException("cannot free a direct buffer", e);
      }
    }
  }

  /** Java 22 and later: one shared arena per buffer, closed to free it. */
  private static final class Arenas implements Strategy {
    private static final Cleaner CLEANER = Cleaner.create();
    private final MethodHandle ofShared;
    private final MethodHandle allocate;
    private final MethodHandle asByteBuffer;
    private final MethodHandle close;
    private final MethodHandle ofBuffer;
    private final MethodHandle address;
    /** The live buffers' arenas by address, as cleanables that close them once. */
    private final Map<Long, Cleaner.Cleanable> live = new ConcurrentHashMap<>();

    Arenas() {
      try {
        MethodHandles.Lookup lookup = MethodHandles.publicLookup();
        Class<?> arena = Class.forName("java.lang.foreign.Arena");
        Class<?> segment = Class.forName("java.lang.foreign.MemorySegment");
        ofShared = lookup.findStatic(arena, "ofShared", MethodType.methodType(arena));
        allocate = lookup.findVirtual(arena, "allocate", MethodType.methodType(segment, long.class, long.class));
        asByteBuffer = lookup.findVirtual(segment, "asByteBuffer", MethodType.methodType(ByteBuffer.class));
        close = lookup.findVirtual(arena, "close", MethodType.methodType(void.class));
        ofBuffer = lookup.findStatic(segment, "ofBuffer", MethodType.methodType(segment, java.nio.Buffer.class));
        address = lookup.findVirtual(segment, "address", MethodType.methodType(long.class));
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError(e);
      }
    }

    @Override
    public ByteBuffer allocate(int capacity) {
      try {
        Object arena = ofShared.invoke();
        Object segment = allocate.invoke(arena, (long) Math.max(capacity, 1), 64L);
        ByteBuffer buffer = (ByteBuffer) asByteBuffer.invoke(segment);
        long key = (long) address.invoke(segment);
        live.put(key, CLEANER.register(buffer, new CloseArena(arena, close, key, live)));
        return buffer;
      } catch (RuntimeException | Error e) {
        throw e;
      } catch (Throwable e) {
        throw new IllegalStateException("cannot allocate native memory", e);
      }
    }

    @Override
    public void free(ByteBuffer buffer) {
      long key;
      try {
        key = (long) address.invoke(ofBuffer.invoke(buffer));
      } catch (Throwable e) {
        throw new IllegalStateException("cannot free a native buffer", e);
      }
      Cleaner.Cleanable arena = live.remove(key);
      if (arena != null) {
        arena.clean();
      }
    }
  }

  /** Closes a buffer's arena: explicitly, or once the buffer was collected without being freed. */
  private record CloseArena(Object arena, MethodHandle close, long key, Map<Long, Cleaner.Cleanable> live)
      implements Runnable {
    @Override
    public void run() {
      live.remove(key);
      try {
        close.invoke(arena);
      } catch (Throwable e) {
        throw new IllegalStateException("cannot close a native buffer's arena", e);
      }
    }
  }
}
