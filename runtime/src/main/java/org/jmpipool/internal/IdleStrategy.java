package org.jmpipool.internal;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * How a communication thread waits when a pass of its loop found nothing to do. It depends on
 * what the thread waits for:
 *
 * <ul>
 *   <li>{@link Expecting#MESSAGE}: a message from another rank is due (a result, the next task).
 *       MPI cannot wake a sleeping thread, so the thread spins briefly, then yields (ranks usually
 *       outnumber cores: yielding hands the core to whoever needs it while still noticing the
 *       message at once), then parks for exponentially longer periods up to a cap.
 *   <li>{@link Expecting#LOCAL_EVENT}: only a thread of this process can give it work (a
 *       submission, a finished task), and that thread unparks it: it yields a little, in case
 *       the event is microseconds away, then parks. Meanwhile it leaves the cores to the work.
 *   <li>{@link Expecting#SEND_PROGRESS}: a send is in progress, which completes only while this
 *       side calls MPI. The receiver moves the data of a large message (shared-memory single
 *       copy), so a sender that yields for long only takes the cores the receiver needs: it
 *       yields a little, then parks for short periods.
 * </ul>
 */
final class IdleStrategy {

  /** What a thread with nothing to do right now waits for; later constants are more urgent. */
  enum Expecting {
    LOCAL_EVENT,
    MESSAGE,
    SEND_PROGRESS
  }

  /** Of what two agents of one thread wait for, the one that needs the more attentive idling. */
  static Expecting mostUrgent(Expecting first, Expecting second) {
    return first.compareTo(second) >= 0 ? first : second;
  }

  private static final long SPIN_NANOS = TimeUnit.MICROSECONDS.toNanos(50);
  private static final long MESSAGE_YIELD_NANOS = TimeUnit.MICROSECONDS.toNanos(2000);
  private static final long LOCAL_YIELD_NANOS = TimeUnit.MICROSECONDS.toNanos(100);
  private static final long SEND_YIELD_NANOS = TimeUnit.MICROSECONDS.toNanos(20);
  private static final long MAX_SEND_PARK_NANOS = TimeUnit.MICROSECONDS.toNanos(100);
  private static final long MIN_PARK_NANOS = TimeUnit.MICROSECONDS.toNanos(10);

  /** The longest park when every event, messages included, unparks the thread. */
  private static final long MAX_WOKEN_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

  private final long maxParkNanos;
  private final boolean arrivalsWake;
  private long idleSince = -1;
  private long parkNanos = MIN_PARK_NANOS;

  /**
   * Creates the strategy.
   *
   * @param maxParkNanos the longest park; it bounds the delay in noticing a message after idling
   * @param arrivalsWake whether an arriving message unparks the thread (local pools): then no
   *     spinning is needed for messages, and a thread waiting only for events parks up to
   *     {@link #MAX_WOKEN_PARK_NANOS}, so that an idle local pool's threads rarely wake
   */
  IdleStrategy(long maxParkNanos, boolean arrivalsWake) {
    this.maxParkNanos = maxParkNanos;
    this.arrivalsWake = arrivalsWake;
  }

  /**
   * Called after every pass of the loop.
   *
   * @param workDone how much the pass did; any work resets the backoff
   * @param expecting what the thread waits for
   */
  void idle(int workDone, Expecting expecting) {
    if (workDone > 0) {
      idleSince = -1;
      parkNanos = MIN_PARK_NANOS;
      return;
    }
    long now = System.nanoTime();
    if (idleSince < 0) {
      idleSince = now;
    }
    long idle = now - idleSince;
    if (expecting == Expecting.MESSAGE && !arrivalsWake && idle < SPIN_NANOS) {
      Thread.onSpinWait();
    } else if (idle < yieldNanos(arrivalsWake && expecting == Expecting.MESSAGE ? Expecting.LOCAL_EVENT : expecting)) {
      Thread.yield();
    } else {
      LockSupport.parkNanos(parkNanos);
      // An agent expecting a message may also have timed work (results held for batching): short parks.
      long cap = switch (expecting) {
        case SEND_PROGRESS -> MAX_SEND_PARK_NANOS;
        case LOCAL_EVENT -> arrivalsWake ? MAX_WOKEN_PARK_NANOS : maxParkNanos;
        case MESSAGE -> maxParkNanos;
      };
      parkNanos = Math.min(parkNanos * 2, cap);
    }
  }

  private static long yieldNanos(Expecting expecting) {
    return switch (expecting) {
      case MESSAGE -> MESSAGE_YIELD_NANOS;
      case LOCAL_EVENT -> LOCAL_YIELD_NANOS;
      case SEND_PROGRESS -> SEND_YIELD_NANOS;
    };
  }
}
