package org.jmpipool.internal.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.jmpipool.internal.transport.Transport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Threads that help a communication thread: they run its passes one at a time with it, never
 * nested, only where the transport allows, and a failure in their pass ends the loop as one on the
 * communication thread does.
 */
@Timeout(30)
class CommunicationThreadTest {

  /** A transport that moves nothing; it records how the loop ended. */
  private static final class QuietTransport implements Transport {
    final boolean anyThreadMayCall;
    final AtomicInteger abortedWith = new AtomicInteger(-1);
    final AtomicBoolean finished = new AtomicBoolean();

    QuietTransport(boolean anyThreadMayCall) {
      this.anyThreadMayCall = anyThreadMayCall;
    }

    @Override
    public int rank() {
      return 0;
    }

    @Override
    public int size() {
      return 1;
    }

    @Override
    public String host() {
      return "localhost";
    }

    @Override
    public PendingSend send(int destination, int channel, ByteBuffer message, int length) {
      throw new UnsupportedOperationException();
    }

    @Override
    public boolean receive(int channel, MessageHandler handler) {
      return false;
    }

    @Override
    public boolean anyThreadMayCall() {
      return anyThreadMayCall;
    }

    @Override
    public void finish() {
      finished.set(true);
    }

    @Override
    public void abort(int status) {
      abortedWith.set(status);
    }
  }

  /** An agent that checks its passes never overlap, and notes the threads that ran them. */
  private static class CountingAgent implements Agent {
    final Set<Thread> ranPasses = ConcurrentHashMap.newKeySet();
    final AtomicInteger inPass = new AtomicInteger();
    final AtomicInteger overlaps = new AtomicInteger();
    final AtomicInteger passes = new AtomicInteger();
    final AtomicReference<Throwable> fatal = new AtomicReference<>();
    volatile boolean done;

    @Override
    public int doWork() {
      if (inPass.incrementAndGet() != 1) {
        overlaps.incrementAndGet();
      }
      ranPasses.add(Thread.currentThread());
      passes.incrementAndGet();
      Thread.onSpinWait();
      inPass.decrementAndGet();
      return 0;
    }

    @Override
    public boolean done() {
      return done;
    }

    @Override
    public IdleStrategy.Expecting expecting() {
      return IdleStrategy.Expecting.MESSAGE;
    }

    @Override
    public void onFatal(Throwable failure) {
      fatal.set(failure);
    }
  }

  private static CommunicationThread started(Transport transport, Agent agent) throws Exception {
    CommunicationThread thread = new CommunicationThread("test-comm", () -> transport);
    thread.start();
    thread.opened().get(10, TimeUnit.SECONDS);
    thread.run(agent);
    return thread;
  }

  /** Lets helper threads call {@code help()} until the agent has run enough passes, and waits for them. */
  private static List<Thread> helpers(CommunicationThread thread, CountingAgent agent, int count)
      throws InterruptedException {
    List<Thread> helpers = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      Thread helper = new Thread(() -> {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline && agent.passes.get() < 20_000) {
          thread.help();
          Thread.yield();
        }
      });
      helper.start();
      helpers.add(helper);
    }
    for (Thread helper : helpers) {
      helper.join();
    }
    return helpers;
  }

  @Test
  void everyHelperRunsPassesOneAtATimeWithTheCommunicationThread() throws Exception {
    QuietTransport transport = new QuietTransport(true);
    CountingAgent agent = new CountingAgent();
    CommunicationThread thread = started(transport, agent);
    List<Thread> helpers = helpers(thread, agent, 3);
    assertTrue(agent.ranPasses.containsAll(helpers), "passes ran on " + agent.ranPasses);
    // The communication thread runs its passes again once nobody helps.
    int before = agent.passes.get();
    agent.ranPasses.clear();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (agent.passes.get() == before && System.nanoTime() < deadline) {
      Thread.sleep(1);
    }
    assertTrue(agent.ranPasses.contains(thread), "the communication thread runs passes after the helpers left");
    agent.done = true;
    thread.finished().get(10, TimeUnit.SECONDS);
    assertEquals(0, agent.overlaps.get(), "passes overlapped");
    assertTrue(transport.finished.get());
    assertFalse(thread.help(), "no pass after the loop ended");
  }

  @Test
  void aTransportForItsOwnThreadOnlyGetsNoHelp() throws Exception {
    QuietTransport transport = new QuietTransport(false);
    CountingAgent agent = new CountingAgent();
    CommunicationThread thread = started(transport, agent);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (agent.passes.get() < 100 && System.nanoTime() < deadline) {
      assertFalse(thread.help());
    }
    agent.done = true;
    thread.finished().get(10, TimeUnit.SECONDS);
    assertEquals(Set.of(thread), agent.ranPasses);
  }

  @Test
  void aPassNeverNestsAndItsThreadCountsAsTheLoops() throws Exception {
    AtomicInteger nestedPasses = new AtomicInteger();
    AtomicInteger outsideLoop = new AtomicInteger();
    CountDownLatch helped = new CountDownLatch(1);
    AtomicReference<CommunicationThread> self = new AtomicReference<>();
    CountingAgent agent = new CountingAgent() {
      @Override
      public int doWork() {
        if (!CommunicationThread.isCurrent()) {
          outsideLoop.incrementAndGet();
        }
        CommunicationThread thread = self.get();
        if (thread != null && thread.help()) {
          nestedPasses.incrementAndGet();
        }
        if (Thread.currentThread() != thread) {
          helped.countDown();
        }
        return 1;
      }
    };
    QuietTransport transport = new QuietTransport(true);
    CommunicationThread thread = new CommunicationThread("test-comm", () -> transport);
    self.set(thread);
    thread.start();
    thread.run(agent);
    while (!helped.await(1, TimeUnit.MILLISECONDS)) {
      thread.help();
    }
    assertFalse(CommunicationThread.isCurrent(), "a helper counts as the loop's only inside its pass");
    agent.done = true;
    thread.finished().get(10, TimeUnit.SECONDS);
    assertEquals(0, nestedPasses.get());
    assertEquals(0, outsideLoop.get());
  }

  @Test
  void aFailureInAHelpersPassEndsTheLoopAsOnTheCommunicationThread() throws Exception {
    IllegalStateException broken = new IllegalStateException("broken in a helper's pass");
    CountingAgent agent = new CountingAgent() {
      @Override
      public int doWork() {
        if (!(Thread.currentThread() instanceof CommunicationThread)) {
          throw broken;
        }
        return 0;
      }
    };
    QuietTransport transport = new QuietTransport(true);
    CommunicationThread thread = started(transport, agent);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (!thread.finished().isDone() && System.nanoTime() < deadline) {
      thread.help();
    }
    ExecutionException ended = assertThrows(ExecutionException.class, () -> thread.finished().get(10, TimeUnit.SECONDS));
    assertSame(broken, ended.getCause());
    assertSame(broken, agent.fatal.get());
    assertEquals(1, transport.abortedWith.get());
    assertFalse(transport.finished.get());
    assertFalse(thread.help());
  }
}
