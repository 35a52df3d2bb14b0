package org.jmpipool.internal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.jmpipool.internal.transport.Transport;

/** Transports between threads of one JVM, standing in for MPI in unit tests. */
final class LoopbackNetwork {

  private record Message(int source, byte[] bytes) {
  }

  private final ConcurrentLinkedQueue<Message>[] inboxes;

  @SuppressWarnings("unchecked")
  LoopbackNetwork(int size) {
    inboxes = new ConcurrentLinkedQueue[size];
    for (int i = 0; i < size; i++) {
      inboxes[i] = new ConcurrentLinkedQueue<>();
    }
  }

  Transport endpoint(int rank) {
    return new Transport() {
      @Override
      public int rank() {
        return rank;
      }

      @Override
      public int size() {
        return inboxes.length;
      }

      @Override
      public String host() {
        return "loopback";
      }

      @Override
      public PendingSend send(int destination, ByteBuffer message, int length) {
        byte[] bytes = new byte[length];
        message.get(0, bytes);
        inboxes[destination].add(new Message(rank, bytes));
        return () -> true;
      }

      @Override
      public boolean receive(MessageHandler handler) {
        Message message = inboxes[rank].poll();
        if (message == null) {
          return false;
        }
        handler.onMessage(message.source(), ByteBuffer.wrap(message.bytes()).order(ByteOrder.nativeOrder()));
        return true;
      }

      @Override
      public void finish() {
      }

      /** Nothing in these tests may abort: make it loud rather than silent. */
      @Override
      public void abort(int status) {
        throw new AssertionError("rank " + rank + " aborted the job with status " + status);
      }
    };
  }
}
