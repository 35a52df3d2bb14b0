package org.jmpipool.internal.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.jmpipool.internal.transport.Transport;
import org.junit.jupiter.api.Test;

class WireTest {

  private record Frame(byte type, byte flags, long id, long aux, byte[] payload) {
  }

  private static List<Frame> read(ByteBuffer message) {
    List<Frame> frames = new ArrayList<>();
    Wire.readFrames(1, message, (source, type, flags, id, aux, payload) ->
        frames.add(new Frame(type, flags, id, aux, payload.toArray())), (source, type, flags, id, aux, length, parts) -> {
          throw new AssertionError("no parted frame expected");
        });
    return frames;
  }

  /** A transport that records what is sent. */
  private static final class RecordingTransport implements Transport {
    final List<ByteBuffer> sent = new ArrayList<>();

    @Override
    public int rank() {
      return 0;
    }

    @Override
    public int size() {
      return 2;
    }

    @Override
    public String host() {
      return "test";
    }

    @Override
    public PendingSend send(int destination, int channel, ByteBuffer message, int length) {
      ByteBuffer copy = ByteBuffer.allocate(length).order(ByteOrder.nativeOrder());
      copy.put(message.duplicate().position(0).limit(length)).flip();
      sent.add(copy);
      return () -> true;
    }

    /** Hands over the sent messages in order, as MPI would deliver them. */
    @Override
    public boolean receive(int channel, MessageHandler handler) {
      if (sent.isEmpty()) {
        return false;
      }
      ByteBuffer message = sent.remove(0);
      ByteBuffer destination = handler.destinationFor(0, message.remaining());
      if (destination != null) {
        destination.put(0, message, 0, message.remaining()).position(0).limit(message.remaining());
        message = destination;
      }
      handler.onMessage(0, message);
      return true;
    }

    @Override
    public void finish() {
    }

    @Override
    public void abort(int status) {
    }
  }

  @Test
  void smallFramesShareAMessageAndALargePayloadTravelsAloneInOrder() {
    Outbox outbox = new Outbox(1, 0);
    byte[] large = new byte[200_000];
    large[199_999] = 7;
    outbox.append(Wire.TASK, (byte) 2, 10, 0, Payload.of(new byte[] {1, 2, 3}));
    outbox.append(Wire.CANCEL, (byte) 1, 11, 5);
    ByteBuffer framed = DirectBuffers.acquire(Wire.HEADER_BYTES + large.length);
    framed.position(Wire.HEADER_BYTES);
    framed.put(large).flip().position(Wire.HEADER_BYTES);
    outbox.append(Wire.TASK, (byte) 0, 12, 0, new Payload.Parts(List.of(framed), true));
    outbox.append(Wire.STOP, (byte) 0, 0, 0);
    RecordingTransport transport = new RecordingTransport();
    assertEquals(true, outbox.flush(transport));
    assertEquals(false, outbox.flush(transport));
    assertEquals(3, transport.sent.size(), "batch, large payload, batch");
    List<Frame> first = read(transport.sent.get(0));
    assertEquals(2, first.size());
    assertEquals(Wire.TASK, first.get(0).type());
    assertEquals(2, first.get(0).flags());
    assertArrayEquals(new byte[] {1, 2, 3}, first.get(0).payload());
    assertEquals(11, first.get(1).id());
    assertEquals(5, first.get(1).aux());
    assertEquals(0, first.get(1).payload().length);
    List<Frame> second = read(transport.sent.get(1));
    assertEquals(1, second.size());
    assertEquals(12, second.get(0).id());
    assertArrayEquals(large, second.get(0).payload());
    assertEquals(Wire.STOP, read(transport.sent.get(2)).get(0).type());
    assertEquals(3, outbox.reapCompleted());
    assertEquals(0, outbox.pendingBytes());
  }

  /**
   * A payload over one part: its frame ends its batch, its parts follow as messages of their own
   * before anything else, and the receiving side hands the frame over whole, in order.
   */
  @Test
  void aPayloadInPartsTravelsAfterItsFrameAndArrivesWholeInOrder() {
    Codec codec = new Codec(kryo -> { });
    byte[] big = new byte[(80 << 20) + 3];
    big[0] = 1;
    big[big.length - 1] = 2;
    Payload.Parts parts = (Payload.Parts) codec.encodeObject("value", big);
    Outbox outbox = new Outbox(1, 0);
    outbox.append(Wire.CANCEL, (byte) 0, 1, 0);
    outbox.append(Wire.RESULT, (byte) 0, 2, 99, parts);
    outbox.append(Wire.STOP, (byte) 0, 0, 0);
    RecordingTransport transport = new RecordingTransport();
    outbox.flush(transport);
    assertEquals(1 + 2 + 1, transport.sent.size(), "batch ending with the frame, 2 parts, batch");
    assertEquals(4, outbox.reapCompleted());

    List<String> received = new ArrayList<>();
    Inbox inbox = new Inbox(transport, 0, (source, type, flags, id, aux, payload) -> {
      if (type == Wire.RESULT) {
        byte[] back = (byte[]) codec.decodeObject("result", payload);
        received.add("result " + id + " " + aux + " " + back.length + " " + back[0] + " " + back[back.length - 1]);
        payload.release();
      } else {
        received.add("frame " + type);
      }
    });
    while (inbox.receive()) {
      // All messages, in order.
    }
    assertEquals(List.of("frame " + Wire.CANCEL, "result 2 99 " + big.length + " 1 2", "frame " + Wire.STOP), received);
  }

  @Test
  void aFrameClaimingMoreBytesThanTheMessageHasIsRejected() {
    ByteBuffer message = ByteBuffer.allocate(Wire.HEADER_BYTES + 4).order(ByteOrder.nativeOrder());
    message.put(Wire.RESULT).put((byte) 0).putLong(1).putLong(0).putInt(1_000_000).putInt(0).flip();
    assertThrows(IllegalStateException.class, () -> read(message));
  }
}
