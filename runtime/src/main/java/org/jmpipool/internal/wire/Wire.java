package org.jmpipool.internal.wire;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * The frames of a message. One MPI message carries a batch of frames, so that many small tasks
 * or results travel together. A frame is a fixed header (type, flags, task id, an auxiliary long,
 * payload length) followed by the payload. A large payload travels in a message of its own, its
 * header in front; one over {@link Payload#PART_BYTES} travels in parts: its frame, the last of
 * its batch, has the length {@link #PARTED} and says how long the payload is and in how many
 * parts, and the parts follow from the same sender on the same channel, each a message of its
 * own, before anything else.
 *
 * <p>Threads: the communication threads, which write and read frames; the constants are for all.
 */
public final class Wire {

  static final int HEADER_BYTES = 1 + 1 + 8 + 8 + 4;
  /** The length of a frame whose payload follows in parts; after the header: the length (long), the parts (int). */
  static final int PARTED = -1;
  static final int PARTS_DESCRIPTOR_BYTES = 8 + 4;
  /**
   * A payload at least this large is copied once, into a direct buffer with room for its frame
   * header in front, and travels as a message of its own, straight from that buffer.
   */
  static final int LARGE_PAYLOAD = 64 * 1024;
  static final byte[] EMPTY_BYTES = new byte[0];

  // Master to worker.
  /** A task: flags = {@link TaskKind} ordinal, payload = the encoded task. */
  public static final byte TASK = 1;
  /** Cancel one task: flags = 1 to interrupt it if it runs. */
  public static final byte CANCEL = 2;
  /** Drop every queued task and interrupt every running one; aux = a sequence number to echo. */
  public static final byte CANCEL_ALL = 3;
  /** No more tasks will come: answer {@link #STOPPED} and end. */
  public static final byte STOP = 4;
  /**
   * On the job's channel 0: serve a new pool on channel {@code id}; payload = its
   * {@link PoolLayout}.
   */
  public static final byte OPEN = 5;
  /**
   * Keep an object for the pool's {@code RemoteRef} {@code id}; payload = its encoding; flags =
   * 1 to forward it along the broadcast tree ({@link PoolLayout#broadcastTargets}). Also sent
   * worker to worker.
   */
  public static final byte STORE = 6;
  /** Drop the object of {@code RemoteRef} {@code id}. */
  public static final byte FREE = 7;

  // Worker to master.
  /** A result: aux = execution nanoseconds, payload = the encoded result. */
  public static final byte RESULT = 11;
  /** A failure: aux = execution nanoseconds, payload = the encoded exception. */
  public static final byte FAILED = 12;
  /** A task dropped before it started. */
  public static final byte NOT_STARTED = 13;
  /** Every task held at the time of a {@link #CANCEL_ALL} is answered; aux = its sequence number. */
  public static final byte CANCEL_ALL_DONE = 14;
  /** The worker's JVM is exiting (a task called System.exit, or a signal); payload = UTF-8 reason. */
  public static final byte WORKER_EXITING = 15;
  /** Answer to {@link #STOP}: the worker is about to finish MPI. */
  public static final byte STOPPED = 16;
  /**
   * The worker received a signal that ends jobs (SIGTERM, SIGINT), perhaps alone: the master
   * ends the job as if it had received it. id = the signal's number, payload = its UTF-8 name.
   */
  public static final byte SIGNALLED = 17;

  // Worker to worker.
  /** A frame of a group of parallel tasks: flags = its kind (join, leave, data...), aux = its generation. */
  public static final byte GROUP = 21;

  private Wire() {
  }

  /** Receives the frames of a message, one call each. */
  public interface FrameHandler {

    /**
     * Handles one frame.
     *
     * @param source the sender's rank
     * @param type the frame type
     * @param flags the type-specific flags
     * @param id the task id, or 0
     * @param aux the type-specific long
     * @param payload the payload; a view into the message is valid only during this call
     */
    void onFrame(int source, byte type, byte flags, long id, long aux, Payload payload);
  }

  /** Hears of a frame whose payload follows in parts. */
  @FunctionalInterface
  interface PartedFrames {

    /**
     * A frame's payload follows from its sender in {@code parts} messages.
     *
     * @param length the payload's length
     * @param parts how many messages carry it
     */
    void follows(int source, byte type, byte flags, long id, long aux, long length, int parts);
  }

  /**
   * Hands over the one frame a message holds (a large payload travels alone) with the message
   * itself as its payload, which the handler then owns and releases.
   *
   * @param message a buffer from {@link DirectBuffers}, from position 0 to the message's length
   * @return whether the message held exactly one frame; if not, nothing was handed over
   */
  static boolean readOwnedFrame(int source, ByteBuffer message, FrameHandler handler) {
    int length = message.limit() - HEADER_BYTES;
    if (length < 0 || message.getInt(HEADER_BYTES - 4) != length) {
      return false;
    }
    handler.onFrame(source, message.get(0), message.get(1), message.getLong(2), message.getLong(10),
        new Payload.Parts(List.of(message.position(HEADER_BYTES)), false));
    return true;
  }

  /**
   * Hands every frame of a message to the handler, or, for a frame whose payload follows in
   * parts, to {@code parted}.
   *
   * @param source the sender's rank
   * @param message the message, from position 0 to its limit
   */
  static void readFrames(int source, ByteBuffer message, FrameHandler handler, PartedFrames parted) {
    while (message.remaining() >= HEADER_BYTES) {
      byte type = message.get();
      byte flags = message.get();
      long id = message.getLong();
      long aux = message.getLong();
      int length = message.getInt();
      if (length == PARTED && message.remaining() == PARTS_DESCRIPTOR_BYTES) {
        parted.follows(source, type, flags, id, aux, message.getLong(), message.getInt());
        return;
      }
      if (length < 0 || length > message.remaining()) {
        throw new IllegalStateException("corrupt message: frame of type " + type + " claims " + length
            + " bytes, " + message.remaining() + " remain");
      }
      int payloadEnd = message.position() + length;
      handler.onFrame(source, type, flags, id, aux, Payload.view(message, length));
      message.position(payloadEnd);
    }
  }
}
