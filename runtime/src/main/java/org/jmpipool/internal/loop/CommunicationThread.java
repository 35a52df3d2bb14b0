package org.jmpipool.internal.loop;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import org.jmpipool.internal.transport.Transport;
import org.jmpipool.internal.wire.DirectBuffers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thread of a rank that calls MPI: it opens the transport, runs the agents of the pools
 * this rank takes part in (each on its own channel), and closes the transport once they are all
 * done. Other threads hand it work through queues and
 * {@link java.util.concurrent.locks.LockSupport#unpark(Thread) unpark} it.
 *
 * <p>The first agent given to the thread is its primary one: the job's pool, or the only pool of
 * a spawned or local pool's thread. Agents of further pools may join while it runs; the
 * transport is closed when the primary agent and all others are done.
 */
public final class CommunicationThread extends Thread {

  private static final Logger LOG = LoggerFactory.getLogger(CommunicationThread.class);
  private static final long MAX_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

  private final Supplier<Transport> opener;
  private final CompletableFuture<Transport> opened = new CompletableFuture<>();
  private final CompletableFuture<Void> primaryGiven = new CompletableFuture<>();
  private final CompletableFuture<Void> finished = new CompletableFuture<>();
  private final ConcurrentLinkedQueue<Hosted> arriving = new ConcurrentLinkedQueue<>();
  /** Set under the thread's lock once no agent may join any more. */
  private boolean closing;

  /** An agent and the future completed when it is done. */
  private record Hosted(Agent agent, CompletableFuture<Void> done) {
  }

  public CommunicationThread(String name, Supplier<Transport> opener) {
    super(name);
    this.opener = opener;
    setDaemon(true);
  }

  /** Returns whether the calling thread is a communication thread. */
  public static boolean isCurrent() {
    return Thread.currentThread() instanceof CommunicationThread;
  }

  /** Completes with the transport once it is open, or exceptionally when it cannot be opened. */
  public CompletableFuture<Transport> opened() {
    return opened;
  }

  /** Completes when every agent is done and the transport closed. */
  public CompletableFuture<Void> finished() {
    return finished;
  }

  /**
   * Runs an agent on this thread, from its next pass; any thread.
   *
   * @return completes when the agent is done and, for the thread's primary agent, the transport
   *     closed too; exceptionally when the thread fails
   * @throws IllegalStateException when the thread has finished its agents
   */
  public CompletableFuture<Void> run(Agent agent) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    boolean primary;
    synchronized (this) {
      if (closing) {
        throw new IllegalStateException("the pool's communication has ended; no new pool can use it");
      }
      arriving.add(new Hosted(agent, done));
      primary = !primaryGiven.isDone();
      primaryGiven.complete(null);
    }
    LockSupport.unpark(this);
    return primary ? finished : done;
  }

  @Override
  public void run() {
    Transport transport;
    try {
      transport = opener.get();
    } catch (RuntimeException | LinkageError e) {
      opened.completeExceptionally(e);
      finished.completeExceptionally(e);
      return;
    }
    opened.complete(transport);
    primaryGiven.join();
    List<Hosted> agents = new ArrayList<>();
    Hosted primary = arriving.peek();
    try {
      IdleStrategy idle = new IdleStrategy(MAX_PARK_NANOS, transport.wakesReceiver());
      while (!allDone(agents, primary)) {
        transport.exchangeHeartbeats();
        int work = 0;
        IdleStrategy.Expecting expecting = IdleStrategy.Expecting.LOCAL_EVENT;
        for (Hosted hosted : agents) {
          work += hosted.agent().doWork();
          expecting = IdleStrategy.mostUrgent(expecting, hosted.agent().expecting());
        }
        if (idle.idle(work, expecting)) {
          DirectBuffers.trimIdle();
        }
      }
      transport.finish();
      finished.complete(null);
    } catch (Throwable failure) {
      LOG.error("jmpipool: the communication thread failed; ending the job", failure);
      finished.completeExceptionally(failure);
      try {
        agents.addAll(arriving);
        for (Hosted hosted : agents) {
          hosted.done().completeExceptionally(failure);
          hosted.agent().onFatal(failure);
        }
      } finally {
        transport.abort(1);
      }
    }
  }

  /** Takes in arriving agents, lets go of finished ones, and tells whether all are done. */
  private boolean allDone(List<Hosted> agents, Hosted primary) {
    Hosted joined;
    while ((joined = arriving.poll()) != null) {
      agents.add(joined);
    }
    for (Iterator<Hosted> it = agents.iterator(); it.hasNext(); ) {
      Hosted hosted = it.next();
      if (hosted.agent().done()) {
        it.remove();
        hosted.done().complete(null);
      }
    }
    if (!agents.isEmpty() || !primary.done().isDone()) {
      return false;
    }
    synchronized (this) {
      if (!arriving.isEmpty()) {
        return false;
      }
      closing = true;
      return true;
    }
  }
}
