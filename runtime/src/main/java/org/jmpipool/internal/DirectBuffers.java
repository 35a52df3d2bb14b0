package org.jmpipool.internal;

import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.jmpipool.internal.transport.NativeMemory;

/**
 * A process-wide pool of direct buffers for large payloads and message batches, by
 * power-of-two size: allocating a direct buffer zeroes it, which costs as much as the copy it is
 * for. Buffers are kept up to a total size; the others are freed as soon as they are given back,
 * so that a large payload's memory does not stay resident until a garbage collection.
 */
final class DirectBuffers {

  private static final int MIN_SHIFT = 16;
  /** The largest pooled size: a payload part ({@link Payload#PART_BYTES}). */
  private static final int MAX_SHIFT = 26;
  private static final long MAX_KEPT_BYTES = 64L << 20;

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static final ConcurrentLinkedQueue<ByteBuffer>[] FREE = new ConcurrentLinkedQueue[MAX_SHIFT + 1];
  private static final AtomicLong KEPT_BYTES = new AtomicLong();

  static {
    for (int shift = MIN_SHIFT; shift <= MAX_SHIFT; shift++) {
      FREE[shift] = new ConcurrentLinkedQueue<>();
    }
  }

  private DirectBuffers() {
  }

  /**
   * Returns a cleared direct buffer in native order with at least this capacity.
   *
   * @throws OutOfMemoryError when no native memory is left for it
   */
  static ByteBuffer acquire(int capacity) {
    int shift = Math.max(MIN_SHIFT, 32 - Integer.numberOfLeadingZeros(capacity - 1));
    if (shift > MAX_SHIFT) {
      return NativeMemory.allocate(capacity);
    }
    ByteBuffer buffer = FREE[shift].poll();
    if (buffer == null) {
      return NativeMemory.allocate(1 << shift);
    }
    KEPT_BYTES.addAndGet(-buffer.capacity());
    return buffer.clear();
  }

  /**
   * Gives a buffer back: kept for reuse, or freed at once. The caller must not use it afterwards.
   *
   * @param buffer a buffer {@link #acquire} returned
   */
  static void release(ByteBuffer buffer) {
    int capacity = buffer.capacity();
    int shift = 31 - Integer.numberOfLeadingZeros(capacity);
    boolean poolable = Integer.bitCount(capacity) == 1 && shift >= MIN_SHIFT && shift <= MAX_SHIFT;
    if (poolable && KEPT_BYTES.addAndGet(capacity) <= MAX_KEPT_BYTES) {
      FREE[shift].add(buffer);
      return;
    }
    if (poolable) {
      KEPT_BYTES.addAndGet(-capacity);
    }
    NativeMemory.free(buffer);
  }
}
