package org.jmpipool.internal.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The heartbeats of a master watching two workers, on a clock and an MPI the test drives. */
class HeartbeatsTest {

  private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
  private static final int TAG = 9;

  /** Heartbeats that arrived, waiting to be probed: (source, host), a null host for a last heartbeat. */
  private final ArrayDeque<Object[]> arrived = new ArrayDeque<>();
  /** The ranks heartbeats were sent to, in order. */
  private final List<Integer> sentTo = new ArrayList<>();
  /** The process id the peers' heartbeats carry. */
  private long peerProcess = Long.MAX_VALUE;
  /** Whether the sends started from now on complete (a link that is up). */
  private boolean sendsComplete = true;

  private final MpiBinding mpi = (MpiBinding) Proxy.newProxyInstance(getClass().getClassLoader(),
      new Class<?>[] {MpiBinding.class}, (proxy, method, args) -> switch (method.getName()) {
        case "anySource" -> -1;
        case "isend" -> {
          sentTo.add((Integer) args[2]);
          boolean completes = sendsComplete;
          yield (MpiBinding.Request) () -> completes;
        }
        case "improbe" -> {
          Object[] beat = arrived.poll();
          yield beat == null ? null : matched((Integer) beat[0], (String) beat[1], peerProcess);
        }
        default -> throw new UnsupportedOperationException(method.getName());
      });

  private static MpiBinding.Matched matched(int source, String host, long process) {
    byte[] bytes;
    if (host == null) {
      bytes = new byte[0];
    } else {
      byte[] name = host.getBytes(StandardCharsets.UTF_8);
      bytes = ByteBuffer.allocate(8 + name.length).order(ByteOrder.nativeOrder()).putLong(process).put(name).array();
    }
    return new MpiBinding.Matched() {
      @Override
      public int source() {
        return source;
      }

      @Override
      public int length() {
        return bytes.length;
      }

      @Override
      public void receive(ByteBuffer into) {
        into.put(0, bytes);
      }
    };
  }

  /** A master's heartbeats with workers 1 and 2, a 10 s timeout, started at time 0. */
  private Heartbeats master() {
    return new Heartbeats(mpi, null, TAG, "node1", new int[] {1, 2}, new String[2], 10 * SECOND, 0);
  }

  @Test
  void aPeerThatKeepsBeatingStaysAndASilentOneIsLostAfterTheTimeoutNotBefore() {
    Heartbeats heartbeats = master();
    for (long t = 0; t <= 10 * SECOND; t += SECOND / 2) {
      arrived.add(new Object[] {1, "node2"});
      assertEquals(-1, heartbeats.exchange(t), "at " + t);
    }
    arrived.add(new Object[] {1, "node2"});
    assertEquals(1, heartbeats.exchange(10 * SECOND + SECOND / 2), "worker 2 (index 1) silent for 10.5 s");
    assertEquals(2, heartbeats.rank(1));
    assertEquals("rank 2", heartbeats.name(1), "never heard, so its host is unknown");
    assertEquals("rank 1 on node2", heartbeats.name(0));
    assertEquals("10.5 s", heartbeats.silence(1));
  }

  @Test
  void timeThisProcessStalledIsNotHeldAgainstItsPeers() {
    Heartbeats heartbeats = master();
    arrived.add(new Object[] {1, "node2"});
    arrived.add(new Object[] {2, "node3"});
    assertEquals(-1, heartbeats.exchange(SECOND));
    // A 30 s pause of this process (a long GC, a debugger): the peers' heartbeats wait unread.
    assertEquals(-1, heartbeats.exchange(31 * SECOND));
    assertTrue(heartbeats.describe(31 * SECOND).startsWith("rank 1 on node2 1.0 s, rank 2 on node3 1.0 s"),
        heartbeats.describe(31 * SECOND));
    arrived.add(new Object[] {1, "node2"});
    assertEquals(-1, heartbeats.exchange(32 * SECOND));
    // From then on the clock runs for the peers again: worker 2 is lost 10 s after its last beat counts.
    for (long t = 33 * SECOND; t < 40 * SECOND; t += SECOND / 2) {
      arrived.add(new Object[] {1, "node2"});
      assertEquals(-1, heartbeats.exchange(t), "at " + t);
    }
    arrived.add(new Object[] {1, "node2"});
    assertEquals(1, heartbeats.exchange(41 * SECOND));
  }

  @Test
  void aSilentPeerOnThisHostWhoseProcessLivesIsStalledNotLost() {
    Heartbeats heartbeats = workersHereWhereWorker1FallsSilent(ProcessHandle.current().pid(), 30 * SECOND);
    arrived.add(new Object[] {2, "node1"});
    assertEquals(-1, heartbeats.exchange(30 * SECOND + SECOND / 2), "worker 1 runs here, in a live process");
  }

  @Test
  void aSilentPeerOnThisHostWhoseProcessEndedIsLost() throws Exception {
    Process ended = new ProcessBuilder("true").start();
    ended.waitFor();
    Heartbeats heartbeats = workersHereWhereWorker1FallsSilent(ended.pid(), 10 * SECOND);
    arrived.add(new Object[] {2, "node1"});
    assertEquals(0, heartbeats.exchange(10 * SECOND + SECOND / 2));
  }

  /**
   * A master whose two workers run on its own host, in the process given, heard from both at
   * time 0 and then from worker 2 only, every half second until {@code until}: worker 1 is not
   * lost by then.
   */
  private Heartbeats workersHereWhereWorker1FallsSilent(long process, long until) {
    Heartbeats heartbeats = master();
    peerProcess = process;
    arrived.add(new Object[] {1, "node1"});
    arrived.add(new Object[] {2, "node1"});
    assertEquals(-1, heartbeats.exchange(0));
    for (long t = SECOND / 2; t <= until; t += SECOND / 2) {
      arrived.add(new Object[] {2, "node1"});
      assertEquals(-1, heartbeats.exchange(t), "at " + t);
    }
    return heartbeats;
  }

  @Test
  void heartbeatsGoOutEveryTenthOfTheTimeoutAndNeverPileUpBehindAStuckSend() {
    Heartbeats heartbeats = master();
    heartbeats.exchange(0);
    assertEquals(List.of(1, 2), sentTo);
    heartbeats.exchange(SECOND / 2);
    assertEquals(2, sentTo.size(), "not due yet");
    heartbeats.exchange(SECOND);
    assertEquals(List.of(1, 2, 1, 2), sentTo);
    sendsComplete = false;
    heartbeats.exchange(2 * SECOND);
    heartbeats.exchange(3 * SECOND);
    heartbeats.exchange(4 * SECOND);
    assertEquals(6, sentTo.size(), "one send each while the link is down, then none");
  }

  @Test
  void anOrderlyEndSendsALastHeartbeatAndReceivesEachPeersLast() {
    Heartbeats heartbeats = master();
    heartbeats.exchange(0);
    // Worker 1 ends first: its last heartbeat (empty) comes while the master still runs; it is
    // no longer watched, however long it then stays silent.
    arrived.add(new Object[] {1, null});
    arrived.add(new Object[] {2, "node3"});
    assertEquals(-1, heartbeats.exchange(SECOND));
    arrived.add(new Object[] {2, "node3"});
    assertEquals(-1, heartbeats.exchange(20 * SECOND / 2));
    assertEquals(List.of(1, 2, 2, 2), sentTo, "no more heartbeats to a worker that ended");
    // Worker 2's last comes while the master ends: every heartbeat sent to the master is received.
    arrived.add(new Object[] {2, "node3"});
    arrived.add(new Object[] {2, null});
    assertTrue(heartbeats.finish());
    assertTrue(arrived.isEmpty());
    assertEquals(List.of(1, 2, 2, 2, 1, 2), sentTo, "a last heartbeat to each worker");
  }

  @Test
  void anEndWaitsForAPeersLastHeartbeatOnlyForTheTimeout() {
    Heartbeats heartbeats = new Heartbeats(mpi, null, TAG, "node1", new int[] {1}, new String[1], SECOND, 0);
    long start = System.nanoTime();
    assertFalse(heartbeats.finish(), "worker 1 never ends in order");
    assertTrue(System.nanoTime() - start >= SECOND);
  }

  @Test
  void describingSaysWhenTheCommunicationThreadLastRan() {
    Heartbeats heartbeats = master();
    heartbeats.exchange(SECOND);
    arrived.add(new Object[] {2, "node3"});
    heartbeats.exchange(2 * SECOND);
    assertEquals("rank 1 2.0 s, rank 2 on node3 0.0 s", heartbeats.describe(2 * SECOND));
    assertEquals("rank 1 2.0 s, rank 2 on node3 0.0 s (as of 5.0 s ago: this rank's communication thread has not run"
        + " since)", heartbeats.describe(7 * SECOND));
  }

  @Test
  void theTimeoutIsANumberOfSecondsAndZeroTurnsHeartbeatsOff() {
    assertEquals(10 * SECOND, Heartbeats.timeoutNanos(null));
    assertEquals(2_500_000_000L, Heartbeats.timeoutNanos(" 2.5 "));
    assertEquals(0, Heartbeats.timeoutNanos("0"));
    for (String bad : List.of("", "ten", "-1", "0.5", "NaN", "1e9")) {
      TransportException refused = assertThrows(TransportException.class, () -> Heartbeats.timeoutNanos(bad));
      assertTrue(refused.getMessage().contains(Heartbeats.TIMEOUT_PROPERTY), refused.getMessage());
    }
  }
}
