package org.jmpipool.internal;

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
    Wire.readFrames(message, (type, flags, id, aux, buffer, length) ->
        frames.add(new Frame(type, flags, id, aux, Wire.payload(buffer, length))));
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

    @Override
    public boolean receive(int channel, MessageHandler handler) {
      return false;
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
    outbox.append(Wire.TASK, (byte) 2, 10, 0, ByteBuffer.wrap(new byte[] {1, 2, 3}));
    outbox.append(Wire.CANCEL, (byte) 1, 11, 5);
    outbox.append(Wire.TASK, (byte) 0, 12, 0, Wire.payloadOf(large, large.length));
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

  @Test
  void aFrameClaimingMoreBytesThanTheMessageHasIsRejected() {
    ByteBuffer message = ByteBuffer.allocate(Wire.HEADER_BYTES + 4).order(ByteOrder.nativeOrder());
    message.put(Wire.RESULT).put((byte) 0).putLong(1).putLong(0).putInt(1_000_000).putInt(0).flip();
    assertThrows(IllegalStateException.class, () -> read(message));
  }
}
