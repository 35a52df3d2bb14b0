package org.jmpipool.internal;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * How a thread waits when a pass of its loop found nothing to do, by how long it has been idle:
 * first it spins (a reply is often microseconds away), then it yields (ranks usually outnumber
 * cores, and yielding hands the core to whoever needs it while still noticing a message at once),
 * then it parks for exponentially longer periods up to a cap, so an idle rank costs next to
 * nothing. MPI offers no way to sleep until a message arrives, hence the capped park; local
 * events (a task submitted, a result ready) unpark the thread at once.
 */
final class IdleStrategy {

  private static final long SPIN_NANOS = TimeUnit.MICROSECONDS.toNanos(50);
  private static final long YIELD_NANOS = TimeUnit.MICROSECONDS.toNanos(2000);
  private static final long MIN_PARK_NANOS = TimeUnit.MICROSECONDS.toNanos(10);

  private final long maxParkNanos;
  private long idleSince = -1;
  private long parkNanos = MIN_PARK_NANOS;

  /**
   * Creates the strategy.
   *
   * @param maxParkNanos the longest park; it bounds the delay in noticing a message after idling
   */
  IdleStrategy(long maxParkNanos) {
    this.maxParkNanos = maxParkNanos;
  }

  /**
   * Called after every pass of the loop.
   *
   * @param workDone how much the pass did; any work resets the backoff
   * @param mayPark false while a send is in progress, which the peer can only complete while
   *     this side keeps polling MPI: then the thread yields instead of parking
   */
  void idle(int workDone, boolean mayPark) {
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
    if (idle < SPIN_NANOS) {
      Thread.onSpinWait();
    } else if (idle < YIELD_NANOS || !mayPark) {
      Thread.yield();
    } else {
      LockSupport.parkNanos(parkNanos);
      parkNanos = Math.min(parkNanos * 2, maxParkNanos);
    }
  }
}
