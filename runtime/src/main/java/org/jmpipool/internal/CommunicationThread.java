package org.jmpipool.internal;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.jmpipool.internal.transport.Transport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thread of a rank that calls MPI: it opens the transport, runs an agent's loop, and
 * closes the transport when the agent is done. Other threads hand it work through queues and
 * {@link java.util.concurrent.locks.LockSupport#unpark(Thread) unpark} it.
 */
final class CommunicationThread extends Thread {

  private static final Logger LOG = LoggerFactory.getLogger(CommunicationThread.class);
  private static final long MAX_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

  private final Supplier<Transport> opener;
  private final CompletableFuture<Transport> opened = new CompletableFuture<>();
  private final CompletableFuture<Agent> agent = new CompletableFuture<>();
  private final CompletableFuture<Void> finished = new CompletableFuture<>();

  CommunicationThread(String name, Supplier<Transport> opener) {
    super(name);
    this.opener = opener;
    setDaemon(true);
  }

  /** Returns whether the calling thread is a communication thread. */
  static boolean isCurrent() {
    return Thread.currentThread() instanceof CommunicationThread;
  }

  /** Completes with the transport once it is open, or exceptionally when it cannot be opened. */
  CompletableFuture<Transport> opened() {
    return opened;
  }

  /** Completes when the agent is done and the transport closed. */
  CompletableFuture<Void> finished() {
    return finished;
  }

  /** Gives the thread the agent to run once the transport is open. */
  void run(Agent work) {
    agent.complete(work);
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
    Agent work = agent.join();
    try {
      IdleStrategy idle = new IdleStrategy(MAX_PARK_NANOS, transport.wakesReceiver());
      while (!work.done()) {
        idle.idle(work.doWork(), work.expecting());
      }
      transport.finish();
      finished.complete(null);
    } catch (Throwable failure) {
      LOG.error("jmpipool: the communication thread failed; ending the job", failure);
      finished.completeExceptionally(failure);
      try {
        work.onFatal(failure);
      } finally {
        transport.abort(1);
      }
    }
  }
}
