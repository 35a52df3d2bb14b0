package org.jmpipool.internal;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * How a communication thread waits when a pass of its loop found nothing to do: spin briefly
 * (a reply is often microseconds away), then yield, then park for exponentially longer periods up
 * to a cap. Ranks usually outnumber cores, so an idle rank must give its core away quickly; MPI
 * offers no way to sleep until a message arrives, hence the capped park. Local events (a task
 * submitted, a result ready) unpark the thread at once.
 */
final class IdleStrategy {

  private static final int SPINS = 2_000;
  private static final int YIELDS = 50;
  private static final long MIN_PARK_NANOS = TimeUnit.MICROSECONDS.toNanos(20);

  private final long maxParkNanos;
  private int idlePasses;
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
   *     this side keeps polling MPI: then the thread never parks long
   */
  void idle(int workDone, boolean mayPark) {
    if (workDone > 0) {
      idlePasses = 0;
      parkNanos = MIN_PARK_NANOS;
      return;
    }
    idlePasses++;
    if (idlePasses <= SPINS) {
      Thread.onSpinWait();
    } else if (idlePasses <= SPINS + YIELDS || !mayPark) {
      Thread.yield();
    } else {
      LockSupport.parkNanos(parkNanos);
      parkNanos = Math.min(parkNanos * 2, maxParkNanos);
    }
  }
}
