package org.jmpipool.internal;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.jmpipool.internal.loop.Agent;
import org.jmpipool.internal.loop.IdleStrategy;
import org.jmpipool.internal.transport.RelayLink;
import org.jmpipool.internal.transport.Transport;
import org.jmpipool.internal.transport.TransportException;
import org.jmpipool.internal.wire.DirectBuffers;

/**
 * Rank 0 of the MPI job of a pool on other hosts: passes the master's messages (from its local
 * socket) on to the workers over MPI, the workers' to the master, and tells the master of a
 * worker the heartbeats lost. Done when the master says its workers stopped and every message
 * is out; then the job ends in order. When the master goes away, the job is aborted: its workers
 * have nobody to serve.
 *
 * <p>Threads: the relay's communication thread.
 */
final class PoolRelay implements Agent {

  /** The one channel of a pool whose workers are a job of their own. */
  private static final int POOL_CHANNEL = 0;
  private static final int MAX_MESSAGES_PER_PASS = 64;

  private final Transport workers;
  private final RelayLink master;
  private final List<InFlight> toWorkers = new ArrayList<>();
  private final List<InFlight> toMaster = new ArrayList<>();
  private final Transport.MessageHandler fromWorker = new Transport.MessageHandler() {
    @Override
    public void onMessage(int source, ByteBuffer message) {
      toMaster.add(new InFlight(master.toMaster(source, POOL_CHANNEL, message, message.limit()), message));
    }

    /** Each message gets a buffer of its own, which the socket writes from while later ones arrive. */
    @Override
    public ByteBuffer destinationFor(int source, int length) {
      return DirectBuffers.acquire(length);
    }
  };
  private final RelayLink.Receiver fromMaster = new RelayLink.Receiver() {
    /** Each message gets a buffer of its own, which MPI sends from while later ones arrive. */
    @Override
    public ByteBuffer bufferFor(int length) {
      return DirectBuffers.acquire(length);
    }

    @Override
    public void forward(int worker, int channel, ByteBuffer message) {
      toWorkers.add(new InFlight(workers.send(worker, channel, message, message.limit()), message));
    }

    @Override
    public void finish() {
      finishing = true;
    }
  };
  private boolean finishing;
  private boolean lossReported;

  /** A message on its way, and the buffer it is sent from, given back once it is out. */
  private record InFlight(Transport.PendingSend send, ByteBuffer buffer) {
  }

  PoolRelay(Transport workers, RelayLink master) {
    this.workers = workers;
    this.master = master;
  }

  @Override
  public int doWork() {
    int work;
    try {
      work = master.receive(fromMaster);
      for (int i = 0; i < MAX_MESSAGES_PER_PASS && workers.receive(POOL_CHANNEL, fromWorker); i++) {
        work++;
      }
      work += master.flush() ? 1 : 0;
    } catch (TransportException e) {
      System.err.println("jmpipool: relay of a pool on other hosts: " + e.getMessage() + "; ending its workers");
      workers.abort(1);
      throw e;
    }
    work += reap(toWorkers) + reap(toMaster);
    Transport.LostPeer lost = workers.lostPeer();
    if (lost != null && !lossReported) {
      lossReported = true;
      master.lost(lost);
    }
    return work;
  }

  private static int reap(List<InFlight> sends) {
    int completed = 0;
    for (Iterator<InFlight> it = sends.iterator(); it.hasNext(); ) {
      InFlight next = it.next();
      if (next.send().isComplete()) {
        DirectBuffers.release(next.buffer());
        it.remove();
        completed++;
      }
    }
    return completed;
  }

  @Override
  public boolean done() {
    return finishing && toWorkers.isEmpty() && toMaster.isEmpty();
  }

  @Override
  public IdleStrategy.Expecting expecting() {
    return toWorkers.isEmpty() && toMaster.isEmpty() ? IdleStrategy.Expecting.MESSAGE
        : IdleStrategy.Expecting.SEND_PROGRESS;
  }

  @Override
  public void onFatal(Throwable failure) {
    // The communication thread aborts the job, which is all there is to do.
  }
}
