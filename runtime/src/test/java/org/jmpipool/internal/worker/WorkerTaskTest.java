package org.jmpipool.internal.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jmpipool.internal.wire.Payload;
import org.jmpipool.internal.wire.TaskKind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A task's start and its cancellation race between a task thread and the communication thread. */
@Timeout(60)
class WorkerTaskTest {

  private static final int ROUNDS = 100_000;

  /**
   * The communication thread cancels (with interrupt) while the task thread starts the task:
   * either the task never starts, or its thread is interrupted. An interrupt must never be lost.
   * Both sides are released together by spinning, the cancel after a random few hundred
   * nanoseconds, so that many rounds land inside the start.
   */
  @Test
  void aCancelRacingTheStartEitherPreventsItOrInterruptsTheTask() throws Exception {
    AtomicInteger round = new AtomicInteger(-1);
    AtomicInteger finished = new AtomicInteger(-1);
    WorkerTask[] tasks = new WorkerTask[ROUNDS];
    for (int i = 0; i < ROUNDS; i++) {
      tasks[i] = new WorkerTask(i, TaskKind.CALL, 0, Payload.EMPTY);
    }
    AtomicInteger lost = new AtomicInteger();
    Thread taskThread = new Thread(() -> {
      for (int i = 0; i < ROUNDS; i++) {
        while (round.get() < i) {
          Thread.onSpinWait();
        }
        if (tasks[i].start()) {
          long giveUp = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(100);
          while (!Thread.currentThread().isInterrupted() && System.nanoTime() < giveUp) {
            Thread.onSpinWait();
          }
          if (!Thread.currentThread().isInterrupted()) {
            lost.incrementAndGet();
          }
          tasks[i].finishRunning();
        }
        finished.set(i);
      }
    });
    taskThread.setDaemon(true);
    taskThread.start();
    java.util.SplittableRandom random = new java.util.SplittableRandom(7);
    for (int i = 0; i < ROUNDS; i++) {
      int delay = random.nextInt(200);
      round.set(i);
      for (int spin = 0; spin < delay; spin++) {
        Thread.onSpinWait();
      }
      // As WorkerAgent.cancel does it: drop the task if it has not started, else interrupt it.
      if (!tasks[i].cancelBeforeStart()) {
        tasks[i].interruptIfRunning();
      }
      while (finished.get() < i) {
        Thread.onSpinWait();
      }
    }
    assertEquals(0, lost.get(), "interrupts lost in " + ROUNDS + " races");
  }

  @Test
  void anInterruptLeftOverFromBeforeIsClearedWhenATaskStarts() {
    Thread.currentThread().interrupt();
    WorkerTask task = new WorkerTask(1, TaskKind.CALL, 0, Payload.EMPTY);
    assertTrue(task.start());
    assertFalse(Thread.currentThread().isInterrupted(), "the next task starts without the old interrupt");
    task.finishRunning();
  }

  @Test
  void aCancelledTaskNeverStarts() {
    WorkerTask task = new WorkerTask(1, TaskKind.CALL, 0, Payload.EMPTY);
    assertTrue(task.cancelBeforeStart());
    assertFalse(task.start());
  }
}
