package org.jmpipool.internal.transport;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.LockSupport;

/**
 * Liveness between a pool's master and its workers over MPI, which tells nobody in time that a
 * process, its node, or the network to it is gone: a killed node's ranks may be noticed by the MPI
 * launcher, a node cut off is noticed by nothing. The master watches every worker and each worker
 * watches the master: each sends the other a heartbeat (its process id and host name) every
 * tenth of the timeout, and counts the other lost once nothing came from it for the whole
 * timeout. A silent peer on this host whose process is alive is stalled, not lost (a long
 * collection, a long copy of a huge message); it counts as lost once its process has ended (the
 * MPI launcher, or a spawning master's watch of its workers' processes, usually tells sooner).
 *
 * <p>MPI wants every message received before it ends, and a heartbeat may be on its way when a
 * process ends in order: each process then sends each peer a last, empty heartbeat, and receives
 * until it has the last one of each of its peers ({@link #finish}). A peer that sent its last is
 * no longer watched.
 *
 * <p>Time this process itself did not run its loop (a garbage collection, a stop by a debugger or
 * by SIGSTOP, a long MPI call) is not held against the peers: their heartbeats may be waiting
 * unread. So a stalled master breaks no pool; a stalled worker may be counted lost, but only after
 * a stall as long as the timeout, and only when it runs on another host.
 *
 * <p>Threads: the communication thread; {@link #describe} any thread.
 */
final class Heartbeats {

  /** The system property giving the timeout in seconds; 0 turns heartbeats off. */
  static final String TIMEOUT_PROPERTY = "jmpipool.heartbeat.timeout";
  static final double DEFAULT_TIMEOUT_SECONDS = 10;
  private static final int INTERVALS_PER_TIMEOUT = 10;
  /** Heartbeats are read and the peers checked this many times per interval, not on every pass of the loop. */
  private static final int CHECKS_PER_INTERVAL = 4;
  /** The clock is read on one pass of the loop in this many (a power of 2): a busy loop's passes take microseconds. */
  private static final int PASSES_PER_LOOK = 16;
  private static final long FINISH_POLL_NANOS = TimeUnit.MICROSECONDS.toNanos(100);

  private final MpiBinding mpi;
  private final MpiBinding.Comm comm;
  private final int tag;
  private final int[] peers;
  private final long timeoutNanos;
  private final long intervalNanos;
  /** When each peer was last heard from, moved forward by the time this process stalled. */
  private final AtomicLongArray lastHeard;
  private final AtomicReferenceArray<String> hosts;
  /** Each peer's process id, once heard; -1 before. */
  private final long[] processIds;
  private final String host;
  private final MpiBinding.Request[] inFlight;
  /** The peers whose last heartbeat came: they are ending in order. */
  private final boolean[] ended;
  private final ByteBuffer beat;
  private final ByteBuffer received = NativeMemory.allocate(256);
  /** When {@link #exchange} was last called; read by {@link #describe}. */
  private volatile long lastPass;
  private long lastChecked;
  private int passes;
  private long lastSent;

  /**
   * Reads the timeout this JVM is configured with; read before MPI starts, so that a bad setting
   * ends the process with one line before it joins any other.
   *
   * @return the timeout, 0 when turned off
   * @throws TransportException when the property is not 0 or a number of seconds from 1 to 86400
   */
  static long configuredTimeoutNanos() {
    return timeoutNanos(System.getProperty(TIMEOUT_PROPERTY));
  }

  /**
   * Creates the heartbeats of one process, if the timeout is not 0.
   *
   * @param peers the ranks it watches and that watch it
   * @param knownHosts the peers' host names where already known (same order), else {@code null}s
   * @param timeoutNanos from {@link #configuredTimeoutNanos()}
   * @return the heartbeats, or {@code null} when turned off
   */
  static Heartbeats start(MpiBinding mpi, MpiBinding.Comm comm, int tag, String host, int[] peers,
      String[] knownHosts, long timeoutNanos) {
    return timeoutNanos == 0 ? null
        : new Heartbeats(mpi, comm, tag, host, peers, knownHosts, timeoutNanos, System.nanoTime());
  }

  /**
   * Parses the timeout property.
   *
   * @param seconds the property's value, or {@code null} for the default
   * @return the timeout, 0 when turned off
   */
  static long timeoutNanos(String seconds) {
    double value;
    try {
      value = seconds == null ? DEFAULT_TIMEOUT_SECONDS : Double.parseDouble(seconds.strip());
    } catch (NumberFormatException e) {
      value = -1;
    }
    // Below a second, a busy machine's scheduling alone would make peers look lost.
    if (!(value == 0 || value >= 1 && value <= TimeUnit.DAYS.toSeconds(1))) {
      throw new TransportException(TIMEOUT_PROPERTY + " must be 0 (off) or a number of seconds from 1 to 86400, not '"
          + seconds + "'");
    }
    return (long) (value * 1e9);
  }

  Heartbeats(MpiBinding mpi, MpiBinding.Comm comm, int tag, String host, int[] peers, String[] knownHosts,
      long timeoutNanos, long now) {
    this.mpi = mpi;
    this.comm = comm;
    this.tag = tag;
    this.peers = peers;
    this.timeoutNanos = timeoutNanos;
    this.intervalNanos = timeoutNanos / INTERVALS_PER_TIMEOUT;
    this.lastHeard = new AtomicLongArray(peers.length);
    this.hosts = new AtomicReferenceArray<>(knownHosts);
    this.inFlight = new MpiBinding.Request[peers.length];
    this.ended = new boolean[peers.length];
    this.host = host;
    this.processIds = new long[peers.length];
    Arrays.fill(processIds, -1);
    byte[] name = host.getBytes(StandardCharsets.UTF_8);
    this.beat = NativeMemory.allocate(8 + name.length).putLong(0, ProcessHandle.current().pid()).put(8, name);
    for (int i = 0; i < peers.length; i++) {
      lastHeard.set(i, now);
    }
    this.lastPass = now;
    this.lastChecked = now - intervalNanos;
    this.lastSent = now - intervalNanos;
  }

  /**
   * Called on every pass of the communication loop: {@link #exchange} on one pass in
   * {@link #PASSES_PER_LOOK}.
   *
   * @return the index of a peer lost, in the order given, or -1
   */
  int onPass() {
    return (++passes & (PASSES_PER_LOOK - 1)) == 0 ? exchange(System.nanoTime()) : -1;
  }

  /**
   * Notes the time (a long gap since the last call is this process's stall), and a few times per
   * interval reads the heartbeats that came, sends this process's when due, and tells whether a
   * peer has been silent for the timeout.
   *
   * @param now the current {@link System#nanoTime()}
   * @return the index of a peer lost, in the order given, or -1
   */
  int exchange(long now) {
    long stalled = now - lastPass - intervalNanos;
    if (stalled > 0) {
      for (int i = 0; i < peers.length; i++) {
        lastHeard.addAndGet(i, stalled);
      }
    }
    lastPass = now;
    if (now - lastChecked < intervalNanos / CHECKS_PER_INTERVAL) {
      return -1;
    }
    lastChecked = now;
    receive(now);
    if (now - lastSent >= intervalNanos) {
      lastSent = now;
      for (int i = 0; i < peers.length; i++) {
        // Over a link that is down a send may never complete: no second one piles up behind it.
        if (!ended[i] && (inFlight[i] == null || inFlight[i].test())) {
          inFlight[i] = mpi.isend(beat, beat.capacity(), peers[i], tag, comm);
        }
      }
    }
    for (int i = 0; i < peers.length; i++) {
      if (!ended[i] && now - lastHeard.get(i) > timeoutNanos && !aliveOnThisHost(i)) {
        return i;
      }
    }
    return -1;
  }

  /** Whether a peer runs on this host and its process is alive: then it is stalled, not lost. */
  private boolean aliveOnThisHost(int index) {
    return host.equals(hosts.get(index)) && processIds[index] > 0
        && ProcessHandle.of(processIds[index]).map(ProcessHandle::isAlive).orElse(false);
  }

  /** Receives the heartbeats that came: a process id and host name, or nothing for a peer's last. */
  private void receive(long now) {
    MpiBinding.Matched message;
    while ((message = mpi.improbe(mpi.anySource(), tag, comm)) != null) {
      int index = indexOf(message.source());
      if (index < 0 || message.length() > received.capacity() || message.length() > 0 && message.length() < 8) {
        throw new TransportException("unexpected heartbeat of " + message.length() + " bytes from rank "
            + message.source());
      }
      message.receive(received);
      lastHeard.set(index, now);
      if (message.length() == 0) {
        ended[index] = true;
      } else if (processIds[index] < 0) {
        processIds[index] = received.getLong(0);
        byte[] name = new byte[message.length() - 8];
        received.get(8, name);
        hosts.set(index, new String(name, StandardCharsets.UTF_8));
      }
    }
  }

  /**
   * Ends the heartbeats in order, before MPI ends: sends each peer this process's last heartbeat
   * and receives until each peer's last came and every send completed, or for at most the
   * timeout (a peer that never ends in order; MPI's end then deals with it).
   *
   * @return whether every peer ended in order in time; if not, the buffers of sends that may
   *     still be in progress are kept
   */
  boolean finish() {
    long deadline = System.nanoTime() + timeoutNanos;
    MpiBinding.Request[] last = new MpiBinding.Request[peers.length];
    for (int i = 0; i < peers.length; i++) {
      last[i] = mpi.isend(beat, 0, peers[i], tag, comm);
    }
    while (!allEnded() || !allComplete(inFlight) || !allComplete(last)) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      LockSupport.parkNanos(FINISH_POLL_NANOS);
      receive(System.nanoTime());
    }
    NativeMemory.free(beat);
    NativeMemory.free(received);
    return true;
  }

  private boolean allEnded() {
    for (boolean peerEnded : ended) {
      if (!peerEnded) {
        return false;
      }
    }
    return true;
  }

  private static boolean allComplete(MpiBinding.Request[] requests) {
    for (int i = 0; i < requests.length; i++) {
      if (requests[i] != null && !requests[i].test()) {
        return false;
      }
      requests[i] = null;
    }
    return true;
  }

  /** Returns a peer's rank. */
  int rank(int index) {
    return peers[index];
  }

  /** Returns a peer's rank and host, as in "rank 2 on node3". */
  String name(int index) {
    String host = hosts.get(index);
    return "rank " + peers[index] + (host == null ? "" : " on " + host);
  }

  /** Returns how long a peer had been silent at the last {@link #exchange}, as in "10.2 s". */
  String silence(int index) {
    return seconds(lastPass - lastHeard.get(index));
  }

  /**
   * Says how long each peer had been silent when the communication thread last ran, as in
   * "rank 1 on node2 0.4 s, rank 2 on node3 4.1 s"; and, when that was a while ago (the thread
   * is stuck, in MPI say), how long ago.
   *
   * @param now the current {@link System#nanoTime()}
   */
  String describe(long now) {
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < peers.length; i++) {
      text.append(i == 0 ? "" : ", ").append(name(i)).append(' ').append(silence(i));
    }
    long sinceLastPass = now - lastPass;
    if (sinceLastPass > intervalNanos) {
      text.append(" (as of ").append(seconds(sinceLastPass)).append(" ago: this rank's communication thread"
          + " has not run since)");
    }
    return text.toString();
  }

  private int indexOf(int rank) {
    for (int i = 0; i < peers.length; i++) {
      if (peers[i] == rank) {
        return i;
      }
    }
    return -1;
  }

  private static String seconds(long nanos) {
    return String.format(Locale.ROOT, "%.1f s", nanos / 1e9);
  }
}
