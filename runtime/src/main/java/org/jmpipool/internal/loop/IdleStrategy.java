package org.jmpipool.internal.loop;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * How a communication thread waits when a pass of its loop found nothing to do. It depends on
 * what the thread waits for:
 *
 * <ul>
 *   <li>{@link Expecting#MESSAGE}: a message from another rank is due (a result, the next task).
 *       MPI cannot wake a sleeping thread, so the thread yields, polling between yields (ranks
 *       usually outnumber cores: yielding hands the core to whoever needs it while still noticing
 *       the message at once), then parks for exponentially longer periods up to a cap. It yields
 *       for {@link #MESSAGE_YIELD_NANOS} only while its recent waits ended within that time: when
 *       messages come milliseconds apart (long tasks), yielding would only take the cores from
 *       the tasks, since a yielding thread stays runnable and gets its share of them.
 *   <li>{@link Expecting#LOCAL_EVENT}: only a thread of this process can give it work (a
 *       submission, a finished task), and that thread unparks it: it yields a little, in case
 *       the event is microseconds away, then parks. Meanwhile it leaves the cores to the work.
 *   <li>{@link Expecting#SEND_PROGRESS}: a send is in progress, which completes only while this
 *       side calls MPI. The receiver moves the data of a large message (shared-memory single
 *       copy), so a sender that yields for long only takes the cores the receiver needs: it
 *       yields a little, then parks for short periods.
 * </ul>
 *
 * <p>It never spins without yielding: with more busy threads than cores, a spinning thread keeps
 * the core from the very thread it waits for (measured here: a round trip took 3 to 6 times as
 * long).
 *
 * <p>Used by its communication thread only.
 */
public final class IdleStrategy {

  /** What a thread with nothing to do right now waits for; later constants are more urgent. */
  public enum Expecting {
    LOCAL_EVENT,
    MESSAGE,
    SEND_PROGRESS
  }

  /** Of what two agents of one thread wait for, the one that needs the more attentive idling. */
  static Expecting mostUrgent(Expecting first, Expecting second) {
    return first.compareTo(second) >= 0 ? first : second;
  }

  /** The next step of an idle thread. */
  enum Step {
    /** Went back to work: nothing to wait for. */
    WORK,
    YIELD,
    PARK
  }

  static final long MESSAGE_YIELD_NANOS = TimeUnit.MICROSECONDS.toNanos(2000);
  /** How long a thread whose messages come far apart yields before parking. */
  static final long SPARSE_MESSAGE_YIELD_NANOS = TimeUnit.MICROSECONDS.toNanos(50);
  private static final long LOCAL_YIELD_NANOS = TimeUnit.MICROSECONDS.toNanos(100);
  private static final long SEND_YIELD_NANOS = TimeUnit.MICROSECONDS.toNanos(20);
  private static final long MAX_SEND_PARK_NANOS = TimeUnit.MICROSECONDS.toNanos(100);
  private static final long MIN_PARK_NANOS = TimeUnit.MICROSECONDS.toNanos(10);

  /** The longest park when every event, messages included, unparks the thread. */
  private static final long MAX_WOKEN_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

  private final long maxParkNanos;
  private final boolean arrivalsWake;
  private long idleSince = -1;
  /** The next park's length, doubled after each. */
  private long parkNanos = MIN_PARK_NANOS;
  /** The length of the park {@link #next} decided. */
  long parkingNanos;
  /** A moving average of how long the recent waits lasted, until work came. */
  private long typicalWaitNanos;

  /**
   * Creates the strategy.
   *
   * @param maxParkNanos the longest park; it bounds the delay in noticing a message after idling
   * @param arrivalsWake whether an arriving message unparks the thread (local pools): then no
   *     yielding is needed for messages, and a thread waiting only for events parks up to
   *     {@link #MAX_WOKEN_PARK_NANOS}, so that an idle local pool's threads rarely wake
   */
  IdleStrategy(long maxParkNanos, boolean arrivalsWake) {
    this.maxParkNanos = maxParkNanos;
    this.arrivalsWake = arrivalsWake;
  }

  /**
   * Called after every pass of the loop: yields or parks when the pass did nothing.
   *
   * @param workDone how much the pass did; any work resets the backoff
   * @param expecting what the thread waits for
   * @return whether the thread parked (it had been idle for a while)
   */
  boolean idle(int workDone, Expecting expecting) {
    Step step = next(workDone, expecting, System.nanoTime());
    if (step == Step.YIELD) {
      Thread.yield();
    } else if (step == Step.PARK) {
      LockSupport.parkNanos(parkingNanos);
    }
    return step == Step.PARK;
  }

  /**
   * Notes that other threads did the loop's work meanwhile (they ran its passes): once they stop,
   * the thread idles as after work of its own, attentive at first.
   */
  void workDoneElsewhere() {
    idleSince = -1;
    parkNanos = MIN_PARK_NANOS;
  }

  /**
   * Decides the next step; a park lasts {@link #parkingNanos}.
   *
   * @param now the current {@link System#nanoTime()}
   */
  Step next(int workDone, Expecting expecting, long now) {
    if (workDone > 0) {
      if (idleSince >= 0) {
        typicalWaitNanos += (now - idleSince - typicalWaitNanos) / 4;
      }
      idleSince = -1;
      parkNanos = MIN_PARK_NANOS;
      return Step.WORK;
    }
    if (idleSince < 0) {
      idleSince = now;
    }
    if (now - idleSince < yieldNanos(expecting)) {
      return Step.YIELD;
    }
    // An agent expecting a message may also have timed work (results held for batching): short parks.
    long cap = switch (expecting) {
      case SEND_PROGRESS -> MAX_SEND_PARK_NANOS;
      case LOCAL_EVENT -> arrivalsWake ? MAX_WOKEN_PARK_NANOS : maxParkNanos;
      case MESSAGE -> maxParkNanos;
    };
    parkingNanos = parkNanos;
    parkNanos = Math.min(parkNanos * 2, cap);
    return Step.PARK;
  }

  private long yieldNanos(Expecting expecting) {
    return switch (expecting) {
      case MESSAGE -> arrivalsWake ? LOCAL_YIELD_NANOS
          : typicalWaitNanos <= MESSAGE_YIELD_NANOS ? MESSAGE_YIELD_NANOS : SPARSE_MESSAGE_YIELD_NANOS;
      case LOCAL_EVENT -> LOCAL_YIELD_NANOS;
      case SEND_PROGRESS -> SEND_YIELD_NANOS;
    };
  }
}
