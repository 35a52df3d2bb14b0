package org.jmpipool.internal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A process-wide pool of direct buffers for large payloads, by power-of-two size: allocating a
 * direct buffer zeroes it, which costs as much as the copy it is for. Buffers are kept up to a
 * total size; the rest are left to the garbage collector.
 */
final class DirectBuffers {

  private static final int MIN_SHIFT = 16;
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

  /** Returns a cleared direct buffer in native order with at least this capacity. */
  static ByteBuffer acquire(int capacity) {
    int shift = Math.max(MIN_SHIFT, 32 - Integer.numberOfLeadingZeros(capacity - 1));
    if (shift > MAX_SHIFT) {
      return ByteBuffer.allocateDirect(capacity).order(ByteOrder.nativeOrder());
    }
    ByteBuffer buffer = FREE[shift].poll();
    if (buffer == null) {
      return ByteBuffer.allocateDirect(1 << shift).order(ByteOrder.nativeOrder());
    }
    KEPT_BYTES.addAndGet(-buffer.capacity());
    return buffer.clear();
  }

  /** Gives a buffer back; one not of a pooled size, or beyond the total kept, is dropped. */
  static void release(ByteBuffer buffer) {
    int capacity = buffer.capacity();
    int shift = 31 - Integer.numberOfLeadingZeros(capacity);
    if (!buffer.isDirect() || Integer.bitCount(capacity) != 1 || shift < MIN_SHIFT || shift > MAX_SHIFT) {
      return;
    }
    if (KEPT_BYTES.addAndGet(capacity) <= MAX_KEPT_BYTES) {
      FREE[shift].add(buffer);
    } else {
      KEPT_BYTES.addAndGet(-capacity);
    }
  }
}
