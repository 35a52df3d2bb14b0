package org.jmpipool.internal.wire;

import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongPredicate;
import org.jmpipool.internal.transport.NativeMemory;

/**
 * A process-wide pool of direct buffers for large payloads and message batches. A fresh direct
 * buffer costs several times the copy it is for: the operating system maps and zeroes its pages
 * on first touch, and the JVM zeroes it again. So buffers given back are kept for reuse, by size
 * class (four per power of two, so that a 1 MiB payload and its frame header take 1.25 MiB, not
 * 2), the most recently given back first, while they are in use: a buffer not reused within
 * {@link #IDLE_NANOS} is freed by {@link #trimIdle()}, which communication threads call when
 * they have had nothing to do for a while, so a rank that stops moving large payloads gives their memory back.
 * At most {@link #MAX_KEPT_BYTES} are kept; when native memory runs out, the kept buffers are
 * freed before giving up.
 *
 * <p>Any thread may acquire and release buffers.
 */
public final class DirectBuffers {

  /** The smallest buffer: 64 KiB. */
  private static final int MIN_SHIFT = 16;
  /** Classes per power of two: sizes 1.25, 1.5, 1.75 and 2 times a power of two. */
  private static final int STEPS = 4;
  /** The largest pooled size, 128 MiB: above a payload part ({@link Payload#PART_BYTES}) and its frame. */
  private static final int MAX_POOLED = 1 << 27;
  private static final long MAX_KEPT_BYTES =
      Math.min(1L << 30, Math.max(64L << 20, Runtime.getRuntime().maxMemory() / 4));
  private static final long IDLE_NANOS = TimeUnit.SECONDS.toNanos(1);
  private static final long TRIM_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  private record Kept(ByteBuffer buffer, long releasedAt) {
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static final ConcurrentLinkedDeque<Kept>[] KEPT = new ConcurrentLinkedDeque[classOf(MAX_POOLED) + 1];
  private static final AtomicLong KEPT_BYTES = new AtomicLong();
  private static final AtomicLong LAST_TRIM = new AtomicLong(System.nanoTime());

  static {
    for (int i = 0; i < KEPT.length; i++) {
      KEPT[i] = new ConcurrentLinkedDeque<>();
    }
  }

  private DirectBuffers() {
  }

  /** Returns the size of the class that holds buffers of this capacity. */
  static int classSize(int capacity) {
    if (capacity <= 1 << MIN_SHIFT) {
      return 1 << MIN_SHIFT;
    }
    int shift = 31 - Integer.numberOfLeadingZeros(capacity - 1);
    int step = 1 << (shift - 2);
    long size = (long) ((capacity + step - 1) / step) * step;
    return size > Integer.MAX_VALUE ? capacity : (int) size;
  }

  /** Returns the index of a class size's queue, or -1 when buffers of that capacity are not pooled. */
  private static int classOf(int capacity) {
    if (capacity > MAX_POOLED || classSize(capacity) != capacity) {
      return -1;
    }
    if (capacity == 1 << MIN_SHIFT) {
      return 0;
    }
    int shift = 31 - Integer.numberOfLeadingZeros(capacity - 1);
    int multiple = capacity >> (shift - 2);
    return STEPS * (shift - MIN_SHIFT) + multiple - STEPS;
  }

  /**
   * Returns a cleared direct buffer in native order with at least this capacity.
   *
   * @throws OutOfMemoryError when no native memory is left for it
   */
  public static ByteBuffer acquire(int capacity) {
    int size = classSize(capacity);
    int index = classOf(size);
    if (index >= 0) {
      Kept kept = KEPT[index].pollFirst();
      if (kept != null) {
        KEPT_BYTES.addAndGet(-size);
        return kept.buffer().clear();
      }
    }
    try {
      return NativeMemory.allocate(size);
    } catch (OutOfMemoryError e) {
      if (freeKept(releasedAt -> true) == 0) {
        throw e;
      }
      return NativeMemory.allocate(size);
    }
  }

  /**
   * Gives a buffer back: kept for reuse, or freed at once. The caller must not use it afterwards.
   *
   * @param buffer a buffer {@link #acquire} returned
   */
  public static void release(ByteBuffer buffer) {
    int capacity = buffer.capacity();
    int index = classOf(capacity);
    if (index >= 0) {
      if (KEPT_BYTES.addAndGet(capacity) <= MAX_KEPT_BYTES) {
        KEPT[index].offerFirst(new Kept(buffer, System.nanoTime()));
        return;
      }
      KEPT_BYTES.addAndGet(-capacity);
    }
    NativeMemory.free(buffer);
  }

  /**
   * Frees the buffers kept but not reused for a while; cheap when called often, since it looks at
   * most every {@link #TRIM_INTERVAL_NANOS}. For threads with nothing else to do.
   */
  public static void trimIdle() {
    long now = System.nanoTime();
    long last = LAST_TRIM.get();
    if (now - last >= TRIM_INTERVAL_NANOS && LAST_TRIM.compareAndSet(last, now)) {
      freeKept(releasedAt -> now - releasedAt >= IDLE_NANOS);
    }
  }

  /** Returns the bytes kept for reuse. */
  static long keptBytes() {
    return KEPT_BYTES.get();
  }

  /**
   * Frees the kept buffers given back long enough ago (the oldest of each class are at its end).
   *
   * @param longAgo whether a buffer given back at this {@link System#nanoTime()} is to be freed
   * @return the bytes freed
   */
  private static long freeKept(LongPredicate longAgo) {
    long freed = 0;
    for (ConcurrentLinkedDeque<Kept> kept : KEPT) {
      Kept oldest;
      while ((oldest = kept.pollLast()) != null) {
        if (!longAgo.test(oldest.releasedAt())) {
          kept.offerLast(oldest);
          break;
        }
        KEPT_BYTES.addAndGet(-oldest.buffer().capacity());
        NativeMemory.free(oldest.buffer());
        freed += oldest.buffer().capacity();
      }
    }
    return freed;
  }
}
