package org.jmpipool.internal.wire;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jmpipool.internal.transport.Transport;

/**
 * The messages arriving at a rank on one channel, turned into frames: the frames of each batch;
 * a large payload, which travels alone, received straight into a native buffer its frame's
 * payload then owns, to be decoded where it landed; and frames whose payload comes in parts
 * ({@link Wire#PARTED}), whose parts are received straight into native buffers, per sender, and
 * handed over whole. Used by the communication thread only.
 */
public final class Inbox implements Transport.MessageHandler {

  private final Transport transport;
  private final int channel;
  private final Wire.FrameHandler frames;
  /** The frames whose parts are arriving, by sender: a sender sends nothing else meanwhile. */
  private final Map<Integer, Assembly> assembling = new HashMap<>();
  /** The buffer given for a large message being received, which becomes its payload's. */
  private ByteBuffer owned;

  public Inbox(Transport transport, int channel, Wire.FrameHandler frames) {
    this.transport = transport;
    this.channel = channel;
    this.frames = frames;
  }

  /**
   * Receives one waiting message, if there is one, and hands its frames over.
   *
   * @return whether a message was received
   */
  public boolean receive() {
    return transport.receive(channel, this);
  }

  @Override
  public ByteBuffer destinationFor(int source, int length) {
    Assembly assembly = assembling.get(source);
    if (assembly != null) {
      return assembly.destination(length);
    }
    owned = null;
    if (length >= Wire.HEADER_BYTES + Wire.LARGE_PAYLOAD) {
      try {
        owned = DirectBuffers.acquire(length);
      } catch (OutOfMemoryError e) {
        // The transport's own buffer takes it; the payload is then copied where it is kept.
      }
    }
    return owned;
  }

  @Override
  public void onMessage(int source, ByteBuffer message) {
    Assembly assembly = assembling.get(source);
    if (assembly == null) {
      if (message != owned) {
        Wire.readFrames(source, message, frames, this::expectParts);
      } else if (!Wire.readOwnedFrame(source, message, frames)) {
        // A large batch of small frames: they are read as views, and the buffer goes back.
        Wire.readFrames(source, message, frames, this::expectParts);
        DirectBuffers.release(message);
      }
      owned = null;
      return;
    }
    if (assembly.received(message)) {
      assembling.remove(source);
      frames.onFrame(source, assembly.type, assembly.flags, assembly.id, assembly.aux, assembly.payload());
    }
  }

  private void expectParts(int source, byte type, byte flags, long id, long aux, long length, int parts) {
    assembling.put(source, new Assembly(type, flags, id, aux, length, parts));
  }

  /** A frame whose parts are arriving. */
  private static final class Assembly {
    final byte type;
    final byte flags;
    final long id;
    final long aux;
    private final long length;
    private final int expected;
    private final List<ByteBuffer> parts = new ArrayList<>();
    private int arrived;
    /** Why the parts could not be kept (no memory): the rest are received and dropped. */
    private String lost;
    /** The buffer given for the part being received. */
    private ByteBuffer receiving;

    Assembly(byte type, byte flags, long id, long aux, long length, int expected) {
      this.type = type;
      this.flags = flags;
      this.id = id;
      this.aux = aux;
      this.length = length;
      this.expected = expected;
    }

    ByteBuffer destination(int partLength) {
      receiving = null;
      if (lost == null) {
        try {
          receiving = DirectBuffers.acquire(partLength);
        } catch (OutOfMemoryError e) {
          lost = "this JVM has no memory left for a payload of " + length + " bytes (" + e.getMessage()
              + "): raise -Xmx";
          parts.forEach(DirectBuffers::release);
          parts.clear();
        }
      }
      return receiving;
    }

    /** Takes the next part; returns whether it was the last. */
    boolean received(ByteBuffer message) {
      if (message == receiving) {
        parts.add(message);
      }
      receiving = null;
      return ++arrived == expected;
    }

    Payload payload() {
      return lost != null ? new Payload.Lost(length, lost) : new Payload.Parts(parts, false);
    }
  }
}
