package org.jmpipool.internal.transport;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.LockSupport;

/**
 * Transports between threads of one JVM: the ranks of a local pool. A message is copied, as it
 * would be over MPI, so that nothing is shared between the master and its workers but bytes; the
 * sender wakes the receiving thread, so that idle ranks sleep instead of polling.
 *
 * <p>Threads: each endpoint is used by its rank's communication thread; a send may wake another
 * rank's.
 */
public final class InProcessNetwork {

  private record Message(int source, byte[] bytes) {
  }

  /** Per rank, the waiting messages of each channel. */
  private final ConcurrentHashMap<Integer, ConcurrentLinkedQueue<Message>>[] inboxes;
  /** The thread that receives each rank's messages, known once that rank's endpoint is open. */
  private final AtomicReferenceArray<Thread> receivers;
  private volatile String abortedBy;
  /** The host every endpoint reports: this JVM's. */
  private final String host = Transport.localHostName();

  /**
   * Creates a network.
   *
   * @param size the number of ranks
   */
  @SuppressWarnings("unchecked")
  public InProcessNetwork(int size) {
    inboxes = new ConcurrentHashMap[size];
    for (int i = 0; i < size; i++) {
      inboxes[i] = new ConcurrentHashMap<>();
    }
    receivers = new AtomicReferenceArray<>(size);
  }

  /**
   * Opens the endpoint of one rank; the calling thread is the one that receives its messages.
   *
   * @param rank the rank
   * @return the endpoint
   */
  public Transport endpoint(int rank) {
    receivers.set(rank, Thread.currentThread());
    return new Endpoint(rank);
  }

  private final class Endpoint implements Transport {
    private final int rank;

    Endpoint(int rank) {
      this.rank = rank;
    }

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
      return host;
    }

    @Override
    public boolean wakesReceiver() {
      return true;
    }

    @Override
    public PendingSend send(int destination, int channel, ByteBuffer message, int length) {
      checkNotAborted();
      byte[] bytes = new byte[length];
      message.get(0, bytes);
      inbox(destination, channel).add(new Message(rank, bytes));
      Thread receiver = receivers.get(destination);
      if (receiver != null) {
        LockSupport.unpark(receiver);
      }
      return () -> true;
    }

    @Override
    public boolean anyThreadMayCall() {
      return true;
    }

    @Override
    public boolean receive(int channel, MessageHandler handler) {
      checkNotAborted();
      Message message = inbox(rank, channel).poll();
      if (message == null) {
        return false;
      }
      ByteBuffer destination = handler.destinationFor(message.source(), message.bytes().length);
      if (destination == null) {
        destination = ByteBuffer.wrap(message.bytes());
      } else {
        destination.put(0, message.bytes()).position(0).limit(message.bytes().length);
      }
      handler.onMessage(message.source(), destination.order(ByteOrder.nativeOrder()));
      return true;
    }

    @Override
    public void finish() {
      inboxes[rank].clear();
    }

    /** Ends every rank of the pool: their next send or receive fails. */
    @Override
    public void abort(int status) {
      abortedBy = "rank " + rank + " aborted the pool (status " + status + ")";
      for (int i = 0; i < inboxes.length; i++) {
        Thread receiver = receivers.get(i);
        if (receiver != null) {
          LockSupport.unpark(receiver);
        }
      }
    }

    private ConcurrentLinkedQueue<Message> inbox(int owner, int channel) {
      return inboxes[owner].computeIfAbsent(channel, c -> new ConcurrentLinkedQueue<>());
    }

    private void checkNotAborted() {
      String reason = abortedBy;
      if (reason != null) {
        throw new TransportException(reason);
      }
    }
  }
}
