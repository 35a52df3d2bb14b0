package org.jmpipool.internal.job;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class ExitWatchTest {

  /**
   * SIGTERM and SIGINT to the master, and each worker relaying its own, come at the same moment
   * (srun signals every rank): the job's drain must run once. Two senders, one per core, spin
   * until released together, so that many rounds land both inside the check.
   */
  @Test
  void theSignalActionRunsOnceHoweverManySignalsComeAtOnce() throws Exception {
    int rounds = 50_000;
    ExitWatch[] watches = new ExitWatch[rounds];
    AtomicInteger[] runs = new AtomicInteger[rounds];
    for (int i = 0; i < rounds; i++) {
      AtomicInteger count = new AtomicInteger();
      runs[i] = count;
      watches[i] = new ExitWatch("master", (who, name, number) -> count.incrementAndGet());
    }
    AtomicInteger released = new AtomicInteger(-1);
    AtomicInteger finished = new AtomicInteger();
    Thread relay = new Thread(() -> {
      for (int i = 0; i < rounds; i++) {
        while (released.get() < i) {
          Thread.onSpinWait();
        }
        watches[i].received("worker rank 1", "TERM", 15);
        finished.incrementAndGet();
      }
    });
    relay.setDaemon(true);
    relay.start();
    for (int i = 0; i < rounds; i++) {
      released.set(i);
      watches[i].received("master", "INT", 2);
      while (finished.get() <= i) {
        Thread.onSpinWait();
      }
    }
    int notOnce = 0;
    for (AtomicInteger count : runs) {
      if (count.get() != 1) {
        notOnce++;
      }
    }
    assertEquals(0, notOnce, "rounds in which the action did not run exactly once, of " + rounds);
  }

  @Test
  void aDisarmedWatchIgnoresSignals() {
    AtomicInteger runs = new AtomicInteger();
    ExitWatch watch = new ExitWatch("master", (who, name, number) -> runs.incrementAndGet());
    watch.disarm();
    watch.received("master", "TERM", 15);
    assertEquals(0, runs.get());
  }
}
