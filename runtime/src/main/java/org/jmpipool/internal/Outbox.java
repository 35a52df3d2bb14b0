package org.jmpipool.internal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import org.jmpipool.internal.transport.Transport;

/**
 * The messages going to one rank: frames are appended to an open batch in a direct buffer, and
 * {@link #flush(Transport)} sends the batch without waiting. Buffers of sends in progress are
 * kept until the send completes, then reused. Used by the communication thread only.
 */
final class Outbox {

  private static final int INITIAL_CAPACITY = 64 * 1024;
  /** A buffer grown beyond this by a large message is not kept for reuse. */
  private static final int MAX_RETAINED_CAPACITY = 4 * 1024 * 1024;

  private final int destination;
  private final ArrayDeque<InFlight> inFlight = new ArrayDeque<>();
  private final ArrayDeque<ByteBuffer> spare = new ArrayDeque<>();
  private ByteBuffer open = allocate(INITIAL_CAPACITY);

  private record InFlight(Transport.PendingSend send, ByteBuffer buffer) {
  }

  Outbox(int destination) {
    this.destination = destination;
  }

  /** Returns the number of bytes in the open batch. */
  int pendingBytes() {
    return open.position();
  }

  /** Returns whether sends are in progress. */
  boolean sending() {
    return !inFlight.isEmpty();
  }

  void append(byte type, byte flags, long id, long aux, byte[] payload) {
    append(type, flags, id, aux, payload, 0, payload.length);
  }

  void append(byte type, byte flags, long id, long aux) {
    append(type, flags, id, aux, null, 0, 0);
  }

  void append(byte type, byte flags, long id, long aux, byte[] payload, int offset, int length) {
    ensureRoom(Wire.HEADER_BYTES + length);
    open.put(type).put(flags).putLong(id).putLong(aux).putInt(length);
    if (length > 0) {
      open.put(payload, offset, length);
    }
  }

  /**
   * Sends the open batch, if it holds anything.
   *
   * @return whether a send was started
   */
  boolean flush(Transport transport) {
    if (open.position() == 0) {
      return false;
    }
    inFlight.add(new InFlight(transport.send(destination, open, open.position()), open));
    open = spare.isEmpty() ? allocate(INITIAL_CAPACITY) : spare.poll();
    return true;
  }

  /**
   * Recycles the buffers of completed sends.
   *
   * @return the number of sends that completed
   */
  int reapCompleted() {
    int completed = 0;
    while (!inFlight.isEmpty() && inFlight.peek().send().isComplete()) {
      ByteBuffer buffer = inFlight.poll().buffer();
      if (buffer.capacity() <= MAX_RETAINED_CAPACITY) {
        spare.add(buffer.clear());
      }
      completed++;
    }
    return completed;
  }

  private void ensureRoom(int bytes) {
    if (open.remaining() >= bytes) {
      return;
    }
    int needed = open.position() + bytes;
    ByteBuffer larger = allocate(Math.max(needed, open.capacity() * 2));
    open.flip();
    larger.put(open);
    open = larger;
  }

  private static ByteBuffer allocate(int capacity) {
    return ByteBuffer.allocateDirect(capacity).order(ByteOrder.nativeOrder());
  }
}
