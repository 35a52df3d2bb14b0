package org.jmpipool.internal.wire;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import org.jmpipool.internal.transport.Transport;

/**
 * The messages going to one rank on one channel. Frames are appended to an open batch in a direct
 * buffer, so that many small frames travel as one message; a framed payload ({@link Payload.Parts}
 * with its header's room in front) travels as a message of its own, straight from its buffer; a
 * payload in several parts closes the batch with its frame, then each part travels as a message
 * of its own. {@link #flush(Transport)} sends without waiting; buffers are kept until their send
 * completes, then reused or freed, and a payload is released once all of it is sent. Used by the
 * communication thread only.
 */
public final class Outbox {

  private static final int INITIAL_CAPACITY = 64 * 1024;
  /** A batch buffer grown beyond this by many frames is freed rather than kept for reuse. */
  private static final int MAX_RETAINED_CAPACITY = 4 * 1024 * 1024;

  private final int destination;
  private final int channel;
  private final ArrayDeque<Message> ready = new ArrayDeque<>();
  private final ArrayDeque<InFlight> inFlight = new ArrayDeque<>();
  private final ArrayDeque<ByteBuffer> spare = new ArrayDeque<>();
  private ByteBuffer open = DirectBuffers.acquire(INITIAL_CAPACITY);
  private int readyBytes;

  /**
   * A message to send.
   *
   * @param buffer its bytes, from 0 to {@code length}
   * @param batch whether {@code buffer} is a batch buffer of this outbox (reused once sent)
   * @param sentPayload a payload released once this message is sent (its last), or {@code null}
   */
  private record Message(ByteBuffer buffer, int length, boolean batch, Payload sentPayload) {
  }

  private record InFlight(Transport.PendingSend send, Message message) {
  }

  public Outbox(int destination, int channel) {
    this.destination = destination;
    this.channel = channel;
  }

  /** Returns the number of bytes appended and not yet sent. */
  public long pendingBytes() {
    return readyBytes + open.position();
  }

  /** Returns whether sends are in progress. */
  public boolean sending() {
    return !inFlight.isEmpty();
  }

  public void append(byte type, byte flags, long id, long aux) {
    append(type, flags, id, aux, Payload.EMPTY);
  }

  /**
   * Appends a frame. The outbox takes over the payload: it is released once sent (a payload sent
   * to several ranks is shared by its sender, once per outbox).
   */
  public void append(byte type, byte flags, long id, long aux, Payload payload) {
    if (payload instanceof Payload.Parts parts) {
      appendOwnMessages(type, flags, id, aux, parts);
      return;
    }
    ByteBuffer bytes = ((Payload.Bytes) payload).buffer();
    int length = bytes.remaining();
    ensureRoom(Wire.HEADER_BYTES + length);
    putHeader(open, type, flags, id, aux, length);
    open.put(bytes.duplicate());
  }

  private void appendOwnMessages(byte type, byte flags, long id, long aux, Payload.Parts parts) {
    if (parts.framed()) {
      closeBatch();
      ByteBuffer part = parts.buffers().get(0);
      int length = part.remaining();
      ByteBuffer message = part.duplicate().order(ByteOrder.nativeOrder()).position(0);
      putHeader(message, type, flags, id, aux, length);
      addReady(new Message(message, Wire.HEADER_BYTES + length, false, parts));
      return;
    }
    ensureRoom(Wire.HEADER_BYTES + Wire.PARTS_DESCRIPTOR_BYTES);
    putHeader(open, type, flags, id, aux, Wire.PARTED);
    open.putLong(parts.length()).putInt(parts.buffers().size());
    closeBatch();
    int last = parts.buffers().size() - 1;
    for (int i = 0; i <= last; i++) {
      ByteBuffer part = parts.buffers().get(i);
      addReady(new Message(part.slice(), part.remaining(), false, i == last ? parts : null));
    }
  }

  private void addReady(Message message) {
    ready.add(message);
    readyBytes += message.length();
  }

  private static void putHeader(ByteBuffer buffer, byte type, byte flags, long id, long aux, int length) {
    buffer.put(type).put(flags).putLong(id).putLong(aux).putInt(length);
  }

  /**
   * Sends what was appended, in order.
   *
   * @return whether a send was started
   */
  public boolean flush(Transport transport) {
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
   * Recycles the buffers of completed sends, and releases the payloads sent whole.
   *
   * @return the number of sends that completed
   */
  public int reapCompleted() {
    int completed = 0;
    while (!inFlight.isEmpty() && inFlight.peek().send().isComplete()) {
      Message message = inFlight.poll().message();
      if (message.batch()) {
        recycle(message.buffer());
      } else if (message.sentPayload() != null) {
        message.sentPayload().release();
      }
      completed++;
    }
    return completed;
  }

  private void recycle(ByteBuffer batch) {
    if (batch.capacity() <= MAX_RETAINED_CAPACITY) {
      spare.add(batch.clear());
    } else {
      DirectBuffers.release(batch);
    }
  }

  private void closeBatch() {
    if (open.position() == 0) {
      return;
    }
    addReady(new Message(open, open.position(), true, null));
    open = spare.isEmpty() ? DirectBuffers.acquire(INITIAL_CAPACITY) : spare.poll();
  }

  private void ensureRoom(int bytes) {
    if (open.remaining() >= bytes) {
      return;
    }
    int needed = open.position() + bytes;
    ByteBuffer larger = DirectBuffers.acquire(Math.max(needed, open.capacity() * 2));
    open.flip();
    larger.put(open);
    recycle(open);
    open = larger;
  }
}
