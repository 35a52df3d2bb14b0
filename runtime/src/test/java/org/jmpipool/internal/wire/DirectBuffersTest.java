package org.jmpipool.internal.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class DirectBuffersTest {

  @Test
  void sizeClassesWasteAtMostAQuarter() {
    assertEquals(64 << 10, DirectBuffers.classSize(1));
    assertEquals(64 << 10, DirectBuffers.classSize(64 << 10));
    assertEquals(80 << 10, DirectBuffers.classSize((64 << 10) + 1));
    assertEquals(1 << 20, DirectBuffers.classSize(1 << 20));
    // A 1 MiB payload with its frame header in front.
    assertEquals(5 << 18, DirectBuffers.classSize((1 << 20) + Wire.HEADER_BYTES));
    int previous = 0;
    for (int capacity = 1; capacity < (1 << 28); capacity += capacity / 7 + 1) {
      int size = DirectBuffers.classSize(capacity);
      assertTrue(size >= capacity && size >= previous, capacity + " -> " + size);
      assertTrue(capacity <= 64 << 10 || size <= capacity * 1.25 + 1, capacity + " -> " + size);
      assertEquals(size, DirectBuffers.classSize(size), "a class size is its own class");
      previous = size;
    }
  }

  @Test
  void aBufferGivenBackIsTheNextOneOfItsClass() {
    int capacity = (7 << 20) + 3;
    ByteBuffer first = DirectBuffers.acquire(capacity);
    assertTrue(first.isDirect() && first.capacity() >= capacity && first.order() == ByteOrder.nativeOrder());
    first.position(100);
    DirectBuffers.release(first);
    ByteBuffer again = DirectBuffers.acquire(capacity);
    assertSame(first, again);
    assertEquals(0, again.position(), "cleared");
    DirectBuffers.release(again);
  }

  @Test
  void aBufferNotReusedForASecondIsFreedByTheIdleTrim() throws InterruptedException {
    int capacity = (13 << 20) + 5;
    ByteBuffer buffer = DirectBuffers.acquire(capacity);
    DirectBuffers.release(buffer);
    long kept = DirectBuffers.keptBytes();
    assertTrue(kept >= buffer.capacity());
    Thread.sleep(1300);
    DirectBuffers.trimIdle();
    assertTrue(DirectBuffers.keptBytes() <= kept - buffer.capacity(), "freed");
    ByteBuffer fresh = DirectBuffers.acquire(capacity);
    assertNotSame(buffer, fresh);
    DirectBuffers.release(fresh);
  }
}
