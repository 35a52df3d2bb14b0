package org.jmpipool.internal.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.TimeUnit;
import org.jmpipool.internal.loop.IdleStrategy.Expecting;
import org.jmpipool.internal.loop.IdleStrategy.Step;
import org.junit.jupiter.api.Test;

class IdleStrategyTest {

  private static final long MICROS = TimeUnit.MICROSECONDS.toNanos(1);
  private static final long MAX_PARK = TimeUnit.MILLISECONDS.toNanos(1);

  private final IdleStrategy strategy = new IdleStrategy(MAX_PARK, false);
  private long now = 1_000_000_000L;

  /** Idles from now until work comes after the given time, and returns the first step that parked, in microseconds. */
  private long waitFor(long nanos, Expecting expecting) {
    long firstPark = -1;
    long end = now + nanos;
    for (; now < end; now += MICROS) {
      if (strategy.next(0, expecting, now) == Step.PARK && firstPark < 0) {
        firstPark = (now - (end - nanos)) / MICROS;
      }
    }
    assertEquals(Step.WORK, strategy.next(1, expecting, now));
    return firstPark;
  }

  @Test
  void yieldsForTheWholeWindowWhileMessagesComeQuickly() {
    for (int i = 0; i < 10; i++) {
      assertEquals(-1, waitFor(30 * MICROS, Expecting.MESSAGE), "a 30 us wait is all yields");
    }
    assertEquals(2000, waitFor(5 * MAX_PARK, Expecting.MESSAGE), "a late message: parks after 2 ms of yields");
  }

  @Test
  void parksSoonOnceMessagesComeMillisecondsApart() {
    for (int i = 0; i < 10; i++) {
      waitFor(12 * MAX_PARK, Expecting.MESSAGE);
    }
    assertEquals(IdleStrategy.SPARSE_MESSAGE_YIELD_NANOS / MICROS, waitFor(12 * MAX_PARK, Expecting.MESSAGE));
    for (int i = 0; i < 20; i++) {
      waitFor(30 * MICROS, Expecting.MESSAGE);
    }
    assertEquals(2000, waitFor(5 * MAX_PARK, Expecting.MESSAGE), "quick messages again: the whole window");
  }

  @Test
  void parksLongerEachTimeUpToTheCapAndAfresh() {
    long[] parks = new long[8];
    int count = 0;
    for (long end = now + 3 * TimeUnit.MILLISECONDS.toNanos(2); now < end && count < parks.length; now += MICROS) {
      if (strategy.next(0, Expecting.MESSAGE, now) == Step.PARK) {
        parks[count++] = strategy.parkingNanos / MICROS;
      }
    }
    assertEquals("[10, 20, 40, 80, 160, 320, 640, 1000]", java.util.Arrays.toString(parks));
    strategy.next(1, Expecting.MESSAGE, now);
    while (strategy.next(0, Expecting.MESSAGE, now) != Step.PARK) {
      now += MICROS;
    }
    assertEquals(10, strategy.parkingNanos / MICROS, "work resets the backoff");
  }

  @Test
  void waitsForLocalEventsAndSendsBriefly() {
    assertEquals(100, waitFor(5 * MAX_PARK, Expecting.LOCAL_EVENT));
    assertEquals(20, waitFor(5 * MAX_PARK, Expecting.SEND_PROGRESS));
  }
}
