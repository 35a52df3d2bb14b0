package org.jmpipool.internal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import org.jmpipool.internal.transport.Transport;

/**
 * The messages going to one rank on one channel. Frames are appended to an open batch in a direct buffer, so
 * that many small frames travel as one message; a large payload made by {@link Wire#payloadOf}
 * travels as a message of its own, straight from its buffer, after the batch before it.
 * {@link #flush(Transport)} sends without waiting; buffers are kept until their send completes,
 * then reused. Used by the communication thread only.
 */
final class Outbox {

  private static final int INITIAL_CAPACITY = 64 * 1024;
  /** A batch buffer grown beyond this by many frames is not kept for reuse. */
  private static final int MAX_RETAINED_CAPACITY = 4 * 1024 * 1024;

  private final int destination;
  private final int channel;
  private final ArrayDeque<Message> ready = new ArrayDeque<>();
  private final ArrayDeque<InFlight> inFlight = new ArrayDeque<>();
  private final ArrayDeque<ByteBuffer> spare = new ArrayDeque<>();
  private ByteBuffer open = allocate(INITIAL_CAPACITY);
  private int readyBytes;

  /** A message to send: a batch, or a large payload with its header. */
  private record Message(ByteBuffer buffer, int length, boolean batch) {
  }

  private record InFlight(Transport.PendingSend send, Message message) {
  }

  Outbox(int destination, int channel) {
    this.destination = destination;
    this.channel = channel;
  }

  /** Returns the number of bytes appended and not yet sent. */
  int pendingBytes() {
    return readyBytes + open.position();
  }

  /** Returns whether sends are in progress. */
  boolean sending() {
    return !inFlight.isEmpty();
  }

  void append(byte type, byte flags, long id, long aux) {
    append(type, flags, id, aux, Wire.EMPTY_PAYLOAD);
  }

  /**
   * Appends a frame.
   *
   * @param payload the payload, from its position to its limit; left unchanged
   */
  void append(byte type, byte flags, long id, long aux, ByteBuffer payload) {
    int length = payload.remaining();
    if (Wire.isFramed(payload)) {
      closeBatch();
      ByteBuffer message = payload.duplicate().order(ByteOrder.nativeOrder()).position(0);
      putHeader(message, type, flags, id, aux, length);
      ready.add(new Message(message, Wire.HEADER_BYTES + length, false));
      readyBytes += Wire.HEADER_BYTES + length;
      return;
    }
    ensureRoom(Wire.HEADER_BYTES + length);
    putHeader(open, type, flags, id, aux, length);
    open.put(payload.duplicate());
  }

  private static void putHeader(ByteBuffer buffer, byte type, byte flags, long id, long aux, int length) {
    buffer.put(type).put(flags).putLong(id).putLong(aux).putInt(length);
  }

  /**
   * Sends what was appended, in order.
   *
   * @return whether a send was started
   */
  boolean flush(Transport transport) {
    closeBatch();
    if (ready.isEmpty()) {
      return false;
    }
    Message message;
    while ((message = ready.poll()) != null) {
      inFlight.add(new InFlight(transport.send(destination, channel, message.buffer(), message.length()), message));
    }
    readyBytes = 0;
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
      Message message = inFlight.poll().message();
      if (!message.batch()) {
        DirectBuffers.release(message.buffer());
      } else if (message.buffer().capacity() <= MAX_RETAINED_CAPACITY) {
        spare.add(message.buffer().clear());
      }
      completed++;
    }
    return completed;
  }

  private void closeBatch() {
    if (open.position() == 0) {
      return;
    }
    ready.add(new Message(open, open.position(), true));
    readyBytes += open.position();
    open = spare.isEmpty() ? allocate(INITIAL_CAPACITY) : spare.poll();
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
