package org.jmpipool.internal.worker;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.function.BinaryOperator;
import org.jmpipool.WorkerComm;
import org.jmpipool.internal.wire.Codec;
import org.jmpipool.internal.wire.Payload;

/**
 * One worker's side of the groups of parallel tasks of a pool. The n-th parallel task on each
 * worker belongs to group generation n; members exchange frames directly, worker to worker, and
 * every frame carries its generation, so leftovers of a failed group never leak into the next.
 *
 * <p>Joining sends JOIN to every other worker and waits, up to a timeout, for theirs. A member
 * whose group formed sends LEAVE when its task ends (however); one that gave up waiting sends
 * ABANDON instead. Either makes a member still waiting for it fail at once. A JOIN followed by
 * an ABANDON of the same generation is a group that never formed from that worker's side: both
 * are skipped. A JOIN followed by a LEAVE is a member that already finished: it counts as
 * joined, since a task may run, end and leave before a slower peer looks. At most one parallel
 * task may be a member on a worker at a time.
 *
 * <p>Threads: task threads join, exchange and leave; the communication thread delivers peers'
 * frames; both under this object's lock, and a member waits on it.
 */
final class WorkerGroup {

  static final byte JOIN = 1;
  static final byte DATA = 2;
  static final byte LEAVE = 3;
  static final byte ABANDON = 4;
  private static final long NO_DEADLINE = Long.MAX_VALUE;

  /** Sends a group frame to another worker of the pool, through the communication thread. */
  @FunctionalInterface
  interface PeerMail {
    void send(int workerIndex, byte kind, long generation, Payload payload);
  }

  private record Envelope(byte kind, long generation, Payload payload) {
  }

  /** Takes a worker's next frame off its queue; one skipped lets go of its payload. Called holding the lock. */
  private Envelope pollFrom(int from) {
    return inbox[from].poll();
  }

  /** Drops a worker's next frame. Called holding the lock. */
  private void skipFrom(int from) {
    inbox[from].poll().payload().release();
  }

  private final int self;
  private final int size;
  private final int rank;
  private final Codec codec;
  private final PeerMail mail;
  /** Per sending worker, its frames not yet consumed; guarded by this. */
  private final ArrayDeque<Envelope>[] inbox;
  private long generation;
  private Member active;

  @SuppressWarnings("unchecked")
  WorkerGroup(int self, int size, int rank, Codec codec, PeerMail mail) {
    this.self = self;
    this.size = size;
    this.rank = rank;
    this.codec = codec;
    this.mail = mail;
    this.inbox = new ArrayDeque[size];
    for (int i = 0; i < size; i++) {
      inbox[i] = new ArrayDeque<>();
    }
  }

  /** Takes a frame from another worker; communication thread. */
  synchronized void deliver(int fromIndex, byte kind, long frameGeneration, Payload payload) {
    inbox[fromIndex].add(new Envelope(kind, frameGeneration, payload));
    notifyAll();
  }

  /**
   * Makes the calling task a member of the next generation and waits for the others.
   *
   * <p>Workers agree on the generation: a worker that sees another's JOIN of a later generation
   * (its own count fell behind when a group failed to form) moves up to it and says so.
   *
   * @throws IllegalStateException when another parallel task is a member on this worker, or the
   *     group does not form in time
   */
  Member join(Duration timeout) {
    long wanted;
    synchronized (this) {
      if (active != null) {
        throw new IllegalStateException("two parallel tasks run on worker " + self + " (rank " + rank + ") at once: "
            + ruleText());
      }
      wanted = generation + 1;
      active = new Member(wanted);
    }
    sendToAll(JOIN, wanted);
    long deadline = System.nanoTime() + timeout.toNanos();
    boolean[] joined = new boolean[size];
    joined[self] = true;
    synchronized (this) {
      while (true) {
        boolean complete = true;
        for (int peer = 0; peer < size; peer++) {
          if (joined[peer]) {
            continue;
          }
          Envelope head = liveHead(peer, wanted);
          if (head != null && head.generation() > wanted && head.kind() == JOIN) {
            wanted = head.generation();
            active = new Member(wanted);
            java.util.Arrays.fill(joined, false);
            joined[self] = true;
            sendToAll(JOIN, wanted);
            complete = false;
            break;
          }
          if (head != null && head.generation() == wanted && head.kind() == JOIN) {
            skipFrom(peer);
            joined[peer] = true;
          } else {
            complete = false;
          }
        }
        if (complete) {
          generation = wanted;
          return active;
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          break;
        }
        try {
          wait(Math.max(1, left / 1_000_000));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          generation = wanted;
          abandon(active);
          throw new CancellationException("a parallel task was interrupted while waiting for its group to form");
        }
      }
      generation = wanted;
    }
    List<Integer> missing = new ArrayList<>();
    for (int peer = 0; peer < size; peer++) {
      if (!joined[peer]) {
        missing.add(peer);
      }
    }
    abandon(active);
    throw new IllegalStateException("a parallel task on worker " + self + " (rank " + rank + ") waited "
        + timeout.toSeconds() + " s for the parallel tasks of workers " + missing + ", which did not join: "
        + ruleText());
  }

  /**
   * The first frame from a worker that matters to a generation: earlier generations, and groups
   * that never formed, are dropped. Called holding the lock.
   */
  private Envelope liveHead(int from, long wanted) {
    ArrayDeque<Envelope> frames = inbox[from];
    while (!frames.isEmpty()) {
      Envelope head = frames.peek();
      if (head.generation() < wanted) {
        skipFrom(from);
        continue;
      }
      java.util.Iterator<Envelope> it = frames.iterator();
      it.next();
      Envelope second = it.hasNext() ? it.next() : null;
      if (head.kind() == JOIN && second != null && second.kind() == ABANDON && second.generation() == head.generation()) {
        skipFrom(from);
        skipFrom(from);
        continue;
      }
      return head;
    }
    return null;
  }

  private void sendToAll(byte kind, long frameGeneration) {
    for (int peer = 0; peer < size; peer++) {
      if (peer != self) {
        mail.send(peer, kind, frameGeneration, Payload.EMPTY);
      }
    }
  }

  private static String ruleText() {
    return "a group of parallel tasks needs exactly workers() tasks at once, one on each worker, with no other"
        + " tasks in flight on the pool (WorkerPool.applyAll places them so)";
  }

  /** Ends the calling task's membership, if it has one; the task thread calls it when the task ends. */
  void leave(Member member) {
    end(member, LEAVE);
  }

  /** Gives up a group that did not form in time. */
  private void abandon(Member member) {
    end(member, ABANDON);
  }

  private void end(Member member, byte kind) {
    synchronized (this) {
      if (active != member) {
        return;
      }
      active = null;
    }
    sendToAll(kind, member.generation);
  }

  /**
   * Takes the next frame of a generation from a worker, dropping those of earlier generations.
   *
   * @return the payload, or {@code null} when the deadline passed
   * @throws IllegalStateException when the worker's member left the generation
   */
  private Payload take(int from, long wanted, byte kind, long deadline) {
    synchronized (this) {
      while (true) {
        Envelope next = inbox[from].peek();
        while (next != null && next.generation() < wanted) {
          skipFrom(from);
          next = inbox[from].peek();
        }
        if (next != null && (next.generation() > wanted || next.kind() == LEAVE || next.kind() == ABANDON)) {
          throw new IllegalStateException("the parallel task on worker " + from + " ended (failed, or gave up"
              + " waiting for the group) while worker " + self + " waited for it; " + ruleText());
        }
        if (next != null) {
          pollFrom(from);
          if (next.kind() != kind) {
            next.payload().release();
            throw new IllegalStateException("parallel tasks called different collectives: worker " + from
                + " is not at the same step as worker " + self);
          }
          return next.payload();
        }
        long left = deadline == NO_DEADLINE ? 0 : deadline - System.nanoTime();
        if (deadline != NO_DEADLINE && left <= 0) {
          return null;
        }
        try {
          wait(deadline == NO_DEADLINE ? 0 : Math.max(1, left / 1_000_000));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new CancellationException("a parallel task was interrupted while waiting for worker " + from);
        }
      }
    }
  }

  /** A parallel task's membership of one generation: its {@link WorkerComm}. */
  final class Member implements WorkerComm {
    private final long generation;

    private Member(long generation) {
      this.generation = generation;
    }

    @Override
    public int rank() {
      return self;
    }

    @Override
    public int size() {
      return size;
    }

    @Override
    public void barrier() {
      allGather(null);
    }

    @Override
    public <T> T broadcast(T value, int root) {
      Objects.checkIndex(root, size);
      checkActive();
      if (root == self) {
        sendToPeers(value);
        return value;
      }
      return receiveFrom(root);
    }

    @Override
    public <T> List<T> allGather(T value) {
      checkActive();
      sendToPeers(value);
      List<T> values = new ArrayList<>(size);
      for (int peer = 0; peer < size; peer++) {
        values.add(peer == self ? value : receiveFrom(peer));
      }
      return values;
    }

    @Override
    public <T> T allReduce(T value, BinaryOperator<T> operation) {
      Objects.requireNonNull(operation, "operation");
      List<T> values = allGather(value);
      T result = values.get(0);
      for (int i = 1; i < values.size(); i++) {
        result = operation.apply(result, values.get(i));
      }
      return result;
    }

    private void checkActive() {
      synchronized (WorkerGroup.this) {
        if (active != this) {
          throw new IllegalStateException("this WorkerComm belongs to a parallel task that has ended");
        }
      }
    }

    /** Sends a value to every other member; encoded once, its payload shared by the sends. */
    private void sendToPeers(Object value) {
      Payload encoded = codec.encodeObject("value of a collective", value);
      try {
        for (int peer = 0; peer < size; peer++) {
          if (peer != self) {
            mail.send(peer, DATA, generation, encoded.share());
          }
        }
      } finally {
        encoded.release();
      }
    }

    @SuppressWarnings("unchecked")
    private <T> T receiveFrom(int from) {
      Payload payload = take(from, generation, DATA, NO_DEADLINE);
      try {
        return (T) codec.decodeObject("value of a collective", payload);
      } finally {
        payload.release();
      }
    }
  }
}
