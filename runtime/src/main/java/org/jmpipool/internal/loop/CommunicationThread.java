package org.jmpipool.internal.loop;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.jmpipool.internal.transport.Transport;
import org.jmpipool.internal.wire.DirectBuffers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thread of a rank that runs its communication loop: it opens the transport, runs the
 * agents of the pools this rank takes part in (each on its own channel), and closes the transport
 * once they are all done. Other threads hand it work through queues and {@link #wake wake} it.
 *
 * <p>A thread that waits for the loop (a caller for its result, an idle task thread for its next
 * task) may {@link #help} instead: run a pass of the loop itself, where the transport allows
 * any thread to call it. A round trip then crosses no thread hand-off on either side: the caller
 * sends its task and receives its result, the worker's task thread receives the task it runs
 * and sends its result. One thread at a time runs a pass, whichever holds the loop's duty, so the
 * agents still see one thread at a time; while others help, this thread parks. Where the agents
 * and the parts they use say "the communication thread", they mean whichever thread runs the pass.
 *
 * <p>The first agent given to the thread is its primary one: the job's pool, or the only pool of
 * a spawned or local pool's thread. Agents of further pools may join while it runs; the
 * transport is closed when the primary agent and all others are done.
 */
public final class CommunicationThread extends Thread {

  private static final Logger LOG = LoggerFactory.getLogger(CommunicationThread.class);
  private static final long MAX_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
  /**
   * How long this thread parks while other threads run the passes. A helper that stops says so
   * ({@link #endHelp}); this bounds the delay should one stop without a word (its thread ended).
   */
  private static final long HELPED_PARK_NANOS = MAX_PARK_NANOS;

  /** How long a failed loop waits for a helper's pass to end before it ends the job anyway. */
  private static final long FATAL_DUTY_WAIT_SECONDS = 5;
  /** Whether the calling thread is running a pass of some communication loop. */
  private static final ThreadLocal<Boolean> IN_PASS = ThreadLocal.withInitial(() -> false);

  private final Supplier<Transport> opener;
  private final CompletableFuture<Transport> opened = new CompletableFuture<>();
  private final CompletableFuture<Void> primaryGiven = new CompletableFuture<>();
  private final CompletableFuture<Void> finished = new CompletableFuture<>();
  private final ConcurrentLinkedQueue<Hosted> arriving = new ConcurrentLinkedQueue<>();
  /** Set under the thread's lock once no agent may join any more. */
  private boolean closing;
  /** Held by whichever thread runs a pass: this one or a helper. */
  private final ReentrantLock duty = new ReentrantLock();
  /** The agents running; under {@link #duty}. */
  private final List<Hosted> agents = new ArrayList<>();
  /** Set once open; passes use it under {@link #duty}. */
  private Transport transport;
  /** What the agents waited for after the last pass; under {@link #duty}. */
  private IdleStrategy.Expecting expecting = IdleStrategy.Expecting.LOCAL_EVENT;
  /** Whether other threads may run passes: the loop runs, and its transport allows it. */
  private volatile boolean helpWelcome;
  /** Whether this thread rests for {@link #HELPED_PARK_NANOS} because other threads run the passes. */
  private volatile boolean restingWhileHelped;
  /** Whether a helper ran a pass since this thread's last one. */
  private volatile boolean helped;
  /** What failed in a helper's pass: this thread ends the loop with it. */
  private volatile Throwable helperFailure;

  /** An agent and the future completed when it is done. */
  private record Hosted(Agent agent, CompletableFuture<Void> done) {
  }

  public CommunicationThread(String name, Supplier<Transport> opener) {
    super(name);
    this.opener = opener;
    setDaemon(true);
  }

  /**
   * Returns whether the calling thread is running a communication loop: a communication thread,
   * or a thread {@linkplain #help helping} one. Such a thread must not wait for the loop.
   */
  public static boolean isCurrent() {
    return Thread.currentThread() instanceof CommunicationThread || IN_PASS.get();
  }

  /** Completes with the transport once it is open, or exceptionally when it cannot be opened. */
  public CompletableFuture<Transport> opened() {
    return opened;
  }

  /** Completes when every agent is done and the transport closed. */
  public CompletableFuture<Void> finished() {
    return finished;
  }

  /** Unparks this thread, to take work handed to its agents; any thread. */
  public void wake() {
    LockSupport.unpark(this);
  }

  /**
   * Tells this thread that the calling thread stops {@linkplain #help helping} (it is about to
   * block): this thread takes the passes over at once, idling as after work of its own, unless
   * another helper goes on.
   */
  public void endHelp() {
    helped = false;
    LockSupport.unpark(this);
  }

  /**
   * Unparks this thread unless it rests while other threads run its passes: one of them, or this
   * thread within {@link #HELPED_PARK_NANOS}, takes the work. Waking a thread is costly where cores
   * are few, and it would only contend with the helper about to run the pass (a caller that
   * submits, then waits for its result).
   */
  public void wakeUnlessHelped() {
    if (!restingWhileHelped) {
      LockSupport.unpark(this);
    }
  }

  /**
   * Runs one pass of the loop on the calling thread, unless another thread is running one, the
   * loop has not started or has ended, or the transport must be called by this thread alone. A
   * failure of the pass ends the loop as one on this thread would. Never nested: a thread inside a
   * pass gets {@code false}. A thread that stops calling it, to block, calls {@link #endHelp}.
   *
   * @return whether a pass ran and did work
   */
  public boolean help() {
    if (!helpWelcome || duty.isHeldByCurrentThread() || !duty.tryLock()) {
      return false;
    }
    try {
      if (!helpWelcome) {
        return false;
      }
      IN_PASS.set(true);
      helped = true;
      return pass() > 0;
    } catch (Throwable failure) {
      helpWelcome = false;
      helperFailure = failure;
      LockSupport.unpark(this);
      return false;
    } finally {
      IN_PASS.set(false);
      duty.unlock();
    }
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
    try {
      transport = opener.get();
    } catch (RuntimeException | LinkageError e) {
      opened.completeExceptionally(e);
      finished.completeExceptionally(e);
      return;
    }
    opened.complete(transport);
    primaryGiven.join();
    Hosted primary = arriving.peek();
    try {
      runPasses(primary);
      transport.finish();
      finished.complete(null);
    } catch (Throwable failure) {
      LOG.error("jmpipool: the communication thread failed; ending the job", failure);
      finished.completeExceptionally(failure);
      helpWelcome = false;
      // A helper's pass in progress ends within moments, unless a stage it completed blocks: the
      // job is ended regardless after a bound.
      boolean held = awaitDuty();
      try {
        agents.addAll(arriving);
        for (Hosted hosted : agents) {
          hosted.done().completeExceptionally(failure);
          hosted.agent().onFatal(failure);
        }
      } finally {
        if (held) {
          duty.unlock();
        }
        transport.abort(1);
      }
    }
  }

  private boolean awaitDuty() {
    try {
      return duty.tryLock(FATAL_DUTY_WAIT_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Runs passes until every agent is done, parking while helpers run them. */
  private void runPasses(Hosted primary) throws Throwable {
    IdleStrategy idle = new IdleStrategy(MAX_PARK_NANOS, transport.wakesReceiver());
    helpWelcome = transport.anyThreadMayCall();
    boolean rested = false;
    while (true) {
      if (!duty.tryLock()) {
        restWhileHelped();
        rested = true;
        continue;
      }
      int work;
      try {
        if (helperFailure != null) {
          throw helperFailure;
        }
        if (allDone(agents, primary)) {
          helpWelcome = false;
          return;
        }
        work = pass();
      } catch (Throwable failure) {
        helpWelcome = false;
        throw failure;
      } finally {
        duty.unlock();
      }
      if (helped) {
        helped = false;
        if (work == 0) {
          restWhileHelped();
          rested = true;
          continue;
        }
      }
      if (rested) {
        rested = false;
        idle.workDoneElsewhere();
      }
      if (idle.idle(work, expecting)) {
        DirectBuffers.trimIdle();
      }
    }
  }

  private void restWhileHelped() {
    restingWhileHelped = true;
    LockSupport.parkNanos(HELPED_PARK_NANOS);
    restingWhileHelped = false;
  }

  /** One pass of every agent's work; under {@link #duty}. */
  private int pass() {
    transport.exchangeHeartbeats();
    int work = 0;
    IdleStrategy.Expecting expects = IdleStrategy.Expecting.LOCAL_EVENT;
    for (Hosted hosted : agents) {
      work += hosted.agent().doWork();
      expects = IdleStrategy.mostUrgent(expects, hosted.agent().expecting());
    }
    expecting = expects;
    return work;
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
