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

  @Test
  void framesAppendedToAnOutboxArriveInOrderInOneMessage() {
    Outbox outbox = new Outbox(1);
    byte[] large = new byte[200_000];
    large[199_999] = 7;
    outbox.append(Wire.TASK, (byte) 2, 10, 0, new byte[] {1, 2, 3});
    outbox.append(Wire.CANCEL, (byte) 1, 11, 5);
    outbox.append(Wire.TASK, (byte) 0, 12, 0, large);
    List<ByteBuffer> sent = new ArrayList<>();
    Transport capture = new LoopbackNetwork(2).endpoint(0);
    Transport recording = new Transport() {
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
      public PendingSend send(int destination, ByteBuffer message, int length) {
        ByteBuffer copy = ByteBuffer.allocate(length).order(ByteOrder.nativeOrder());
        copy.put(message.duplicate().position(0).limit(length)).flip();
        sent.add(copy);
        return capture.send(destination, message, length);
      }

      @Override
      public boolean receive(MessageHandler handler) {
        return false;
      }

      @Override
      public void finish() {
      }

      @Override
      public void abort(int status) {
      }
    };
    assertEquals(true, outbox.flush(recording));
    assertEquals(false, outbox.flush(recording));
    assertEquals(1, sent.size());
    List<Frame> frames = read(sent.get(0));
    assertEquals(3, frames.size());
    assertEquals(Wire.TASK, frames.get(0).type());
    assertEquals(2, frames.get(0).flags());
    assertArrayEquals(new byte[] {1, 2, 3}, frames.get(0).payload());
    assertEquals(11, frames.get(1).id());
    assertEquals(5, frames.get(1).aux());
    assertEquals(0, frames.get(1).payload().length);
    assertArrayEquals(large, frames.get(2).payload());
    assertEquals(1, outbox.reapCompleted());
  }

  @Test
  void aFrameClaimingMoreBytesThanTheMessageHasIsRejected() {
    ByteBuffer message = ByteBuffer.allocate(Wire.HEADER_BYTES + 4).order(ByteOrder.nativeOrder());
    message.put(Wire.RESULT).put((byte) 0).putLong(1).putLong(0).putInt(1_000_000).putInt(0).flip();
    assertThrows(IllegalStateException.class, () -> read(message));
  }
}
