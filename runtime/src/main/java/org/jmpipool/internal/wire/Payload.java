package org.jmpipool.internal.wire;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.jmpipool.TaskSerializationException;

/**
 * The bytes a frame carries: a task, a result, a stored object, an exception. Any length, held
 * in one of three ways:
 *
 * <ul>
 *   <li>{@link Bytes}: on the heap, or a view into a received message (valid only while its frame
 *       is handled: {@link #retain()} copies it). Such payloads travel inside batches.
 *   <li>{@link Parts}: native buffers, freed when the last holder {@link #release() releases}
 *       them. One part with room for the frame header in front travels as a message of its own,
 *       straight from its buffer; a payload over {@link #PART_BYTES} is cut into parts of that
 *       size (MPI counts are C ints), each a message of its own.
 *   <li>{@link Lost}: a payload that arrived but could not be kept (no memory for it); decoding it
 *       fails with the reason.
 * </ul>
 *
 * <p>A payload passes from thread to thread (encoder, communication thread, decoder) and is used
 * by one at a time; a native payload sent to several ranks is shared: each send holds it
 * ({@link #share()}) and releases it once sent.
 */
public abstract sealed class Payload permits Payload.Bytes, Payload.Parts, Payload.Lost {

  /** The largest part of a payload, and of a message carrying one. */
  static final int PART_BYTES = 1 << 26;
  /** The longest payload a Java array can hold, for the few that are read as one. */
  private static final int MAX_ARRAY = Integer.MAX_VALUE - 16;

  public static final Payload EMPTY = new Bytes(ByteBuffer.allocate(0), false);

  /** Returns its length in bytes. */
  abstract long length();

  /** Returns a payload that stays valid after the frame it came in was handled: itself, or a copy of a view. */
  public Payload retain() {
    return this;
  }

  /**
   * Returns its bytes in one array.
   *
   * @throws IllegalStateException when it is longer than an array can be, or was lost
   */
  public abstract byte[] toArray();

  /** Returns the SHA-256 digest of its bytes, to tell two encodings apart without keeping one. */
  public byte[] sha256() {
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
    if (this instanceof Bytes bytes) {
      digest.update(bytes.buffer().duplicate());
    } else if (this instanceof Parts parts) {
      parts.buffers().forEach(buffer -> digest.update(buffer.duplicate()));
    } else {
      throw new IllegalStateException("a lost payload has no bytes");
    }
    return digest.digest();
  }

  /** Adds a holder: each send of one payload to several ranks releases it once. */
  public Payload share() {
    return this;
  }

  /** Lets go of it; the last holder of native parts frees them. It must not be used afterwards. */
  public void release() {
  }

  /** Bytes on the heap, or a view into a received message. */
  public static Payload of(byte[] bytes) {
    return new Bytes(ByteBuffer.wrap(bytes), false);
  }

  /** A view into a received message, valid only while its frame is handled. */
  static Payload view(ByteBuffer message, int length) {
    return new Bytes(message.slice(message.position(), length), true);
  }

  /** The remaining bytes of a buffer. */
  static final class Bytes extends Payload {
    private final ByteBuffer buffer;
    private final boolean borrowed;

    private Bytes(ByteBuffer buffer, boolean borrowed) {
      this.buffer = buffer;
      this.borrowed = borrowed;
    }

    /** Returns the bytes, from position to limit; the caller must not move them. */
    ByteBuffer buffer() {
      return buffer;
    }

    @Override
    long length() {
      return buffer.remaining();
    }

    @Override
    public Payload retain() {
      return borrowed ? of(toArray()) : this;
    }

    @Override
    public byte[] toArray() {
      if (buffer.hasArray() && buffer.arrayOffset() == 0 && buffer.position() == 0
          && buffer.remaining() == buffer.array().length) {
        return buffer.array();
      }
      byte[] bytes = new byte[buffer.remaining()];
      buffer.get(buffer.position(), bytes);
      return bytes;
    }
  }

  /** Native buffers, each from its position to its limit. */
  static final class Parts extends Payload {
    private final List<ByteBuffer> buffers;
    private final long length;
    private final boolean framed;
    private final AtomicInteger holders = new AtomicInteger(1);

    /**
     * Creates the payload.
     *
     * @param buffers from {@link DirectBuffers}, each from its position to its limit
     * @param framed whether the payload is one buffer with room for the frame header in front
     */
    Parts(List<ByteBuffer> buffers, boolean framed) {
      this.buffers = List.copyOf(buffers);
      this.length = buffers.stream().mapToLong(ByteBuffer::remaining).sum();
      this.framed = framed;
      if (framed && (buffers.size() != 1 || buffers.get(0).position() != Wire.HEADER_BYTES)) {
        throw new IllegalArgumentException("a framed payload is one buffer with the header's room in front");
      }
    }

    /** Returns the buffers, each from its position to its limit. */
    List<ByteBuffer> buffers() {
      return buffers;
    }

    /** Returns whether it is one buffer with room for its frame header in front. */
    boolean framed() {
      return framed;
    }

    @Override
    long length() {
      return length;
    }

    @Override
    public byte[] toArray() {
      if (length > MAX_ARRAY) {
        throw new IllegalStateException("a payload of " + length + " bytes does not fit in one array");
      }
      byte[] bytes = new byte[(int) length];
      int at = 0;
      for (ByteBuffer buffer : buffers) {
        buffer.get(buffer.position(), bytes, at, buffer.remaining());
        at += buffer.remaining();
      }
      return bytes;
    }

    /** Reads the parts in order; for decoding a payload of several parts. */
    InputStream stream() {
      return new InputStream() {
        private int part;
        private int offset;

        @Override
        public int read() {
          byte[] one = new byte[1];
          return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] into, int at, int count) {
          while (part < buffers.size() && offset == buffers.get(part).remaining()) {
            part++;
            offset = 0;
          }
          if (part == buffers.size()) {
            return -1;
          }
          ByteBuffer buffer = buffers.get(part);
          int n = Math.min(count, buffer.remaining() - offset);
          buffer.get(buffer.position() + offset, into, at, n);
          offset += n;
          return n;
        }

        @Override
        public void close() throws IOException {
          // The parts belong to the payload, which is released by its holder.
        }
      };
    }

    @Override
    public Payload share() {
      if (holders.getAndIncrement() <= 0) {
        throw new IllegalStateException("a released payload was shared");
      }
      return this;
    }

    @Override
    public void release() {
      if (holders.decrementAndGet() == 0) {
        buffers.forEach(buffer -> DirectBuffers.release(buffer.clear()));
      }
    }
  }

  /** A payload that arrived but could not be kept. */
  static final class Lost extends Payload {
    private final long length;
    private final String why;

    Lost(long length, String why) {
      this.length = length;
      this.why = why;
    }

    /** Returns the failure decoding it gives. */
    TaskSerializationException failure(String what) {
      return new TaskSerializationException("cannot deserialize the " + what + ": " + why, null);
    }

    @Override
    long length() {
      return length;
    }

    @Override
    public byte[] toArray() {
      throw new IllegalStateException(why);
    }
  }
}
