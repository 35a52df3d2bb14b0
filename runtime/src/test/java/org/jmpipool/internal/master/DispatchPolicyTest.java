package org.jmpipool.internal.master;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Which worker gets the next task, and how much each may hold. */
class DispatchPolicyTest {

  private static final long MILLISECOND = TimeUnit.MILLISECONDS.toNanos(1);

  @Test
  void theLeastLoadedWorkerGetsTheTaskTiesGoToTheLowestIndex() {
    DispatchPolicy policy = new DispatchPolicy(3, 1);
    int[] order = new int[6];
    for (int i = 0; i < order.length; i++) {
      order[i] = policy.pick();
      policy.sent(order[i]);
    }
    assertEquals("[0, 1, 2, 0, 1, 2]", java.util.Arrays.toString(order));
    policy.answered(1, MILLISECOND);
    assertEquals(1, policy.pick(), "the worker that answered holds the fewest");
  }

  @Test
  void aCallerWaitingForEachResultKeepsOneWorkerBusy() {
    DispatchPolicy policy = new DispatchPolicy(4, 1);
    for (int round = 0; round < 10; round++) {
      int worker = policy.pick();
      assertEquals(0, worker, "round " + round);
      policy.sent(worker);
      policy.answered(worker, 100_000);
    }
  }

  @Test
  void noWorkerGetsMoreThanItsCreditNorOneThatDoesNotAccept() {
    DispatchPolicy policy = new DispatchPolicy(2, 1);
    assertEquals(DispatchPolicy.MIN_CREDIT, policy.credit(0));
    for (int i = 0; i < 2 * DispatchPolicy.MIN_CREDIT; i++) {
      policy.sent(policy.pick());
    }
    assertEquals(-1, policy.pick(), "every worker holds its credit");
    policy.answered(0, 10 * MILLISECOND);
    policy.pause(0);
    assertEquals(-1, policy.pick(), "worker 0 has room but is paused");
    policy.resume(0);
    assertEquals(0, policy.pick());
  }

  @Test
  void aWorkerMayTakeItsEqualShareOfTheWaitingTasksWithinItsCredit() {
    DispatchPolicy policy = new DispatchPolicy(4, 1);
    assertEquals(1, policy.share(policy.pick(), 3), "fewer tasks than workers: one each");
    assertEquals(2, policy.share(policy.pick(), 8), "two each");
    assertEquals(DispatchPolicy.MIN_CREDIT, policy.share(policy.pick(), 1_000), "no more than the credit");
    for (int worker = 0; worker < 4; worker++) {
      policy.sent(worker);
      policy.answered(worker, 10_000);
    }
    assertEquals(101, policy.share(policy.pick(), 1_000));
    assertEquals(10, policy.share(policy.pick(), 40));
  }

  /** The heap that makes picking cheap picks exactly what a scan of every worker would. */
  @Test
  void picksAsAScanOfEveryWorkerWouldThroughAnyMixOfEvents() {
    Random random = new Random(42);
    for (int workers : new int[] {1, 2, 7, 64}) {
      DispatchPolicy policy = new DispatchPolicy(workers, 1 + random.nextInt(3));
      boolean[] paused = new boolean[workers];
      for (int step = 0; step < 20_000; step++) {
        int worker = random.nextInt(workers);
        switch (random.nextInt(6)) {
          case 0, 1 -> {
            int picked = policy.pick();
            if (picked >= 0) {
              policy.sent(picked);
            }
          }
          case 2 -> {
            if (policy.holding(worker) > 0) {
              policy.answered(worker, random.nextBoolean() ? -1 : random.nextInt(2_000_000));
            }
          }
          case 3 -> policy.sent(worker);
          case 4 -> {
            paused[worker] = !paused[worker];
            if (paused[worker]) {
              policy.pause(worker);
            } else {
              policy.resume(worker);
            }
          }
          default -> {
            if (random.nextInt(500) == 0) {
              policy.forgetHeld();
            }
          }
        }
        assertEquals(pickByScan(policy, paused), policy.pick(), workers + " workers, step " + step);
      }
    }
  }

  private static int pickByScan(DispatchPolicy policy, boolean[] paused) {
    int best = -1;
    for (int worker = 0; worker < paused.length; worker++) {
      if (!paused[worker] && policy.holding(worker) < policy.credit(worker)
          && (best < 0 || policy.holding(worker) < policy.holding(best))) {
        best = worker;
      }
    }
    return best;
  }

  @Test
  void creditCoversAboutAMillisecondOfWorkPerTaskThread() {
    DispatchPolicy shortTasks = new DispatchPolicy(1, 1);
    DispatchPolicy longTasks = new DispatchPolicy(1, 1);
    DispatchPolicy shortTasksOnFourThreads = new DispatchPolicy(1, 4);
    for (int i = 0; i < 50; i++) {
      answer(shortTasks, 10_000);
      answer(longTasks, 50 * MILLISECOND);
      answer(shortTasksOnFourThreads, 10_000);
    }
    assertEquals(101, shortTasks.credit(0), "1 ms of 10 us tasks, plus one");
    assertEquals(DispatchPolicy.MIN_CREDIT, longTasks.credit(0), "long tasks: one running, one waiting");
    assertEquals(4 * shortTasks.credit(0), shortTasksOnFourThreads.credit(0));
    DispatchPolicy tinyTasks = new DispatchPolicy(1, 1);
    answer(tinyTasks, 1);
    assertEquals(DispatchPolicy.MAX_CREDIT, tinyTasks.credit(0));
  }

  @Test
  void tasksThatNeverStartedLeaveTheCreditAsItWas() {
    DispatchPolicy policy = new DispatchPolicy(1, 1);
    answer(policy, 10_000);
    int credit = policy.credit(0);
    policy.sent(0);
    policy.answered(0, -1);
    assertEquals(credit, policy.credit(0));
    assertEquals(0, policy.holding(0));
  }

  @Test
  void aLongTaskCutsTheCreditAtOnceAndShortOnesBringItBack() {
    DispatchPolicy policy = new DispatchPolicy(1, 1);
    for (int i = 0; i < 50; i++) {
      answer(policy, 10_000);
    }
    answer(policy, 10 * MILLISECOND);
    assertEquals(DispatchPolicy.MIN_CREDIT, policy.credit(0), "a worker busy with long tasks is not handed more");
    for (int i = 0; i < 30; i++) {
      answer(policy, 10_000);
    }
    assertTrue(policy.credit(0) > 50, "back up: " + policy.credit(0));
  }

  @Test
  void aBrokenPoolForgetsWhatTheWorkersHeld() {
    DispatchPolicy policy = new DispatchPolicy(2, 1);
    policy.sent(0);
    policy.sent(1);
    policy.forgetHeld();
    assertEquals(0, policy.holding(0));
    assertEquals(0, policy.holding(1));
  }

  private static void answer(DispatchPolicy policy, long executionNanos) {
    policy.sent(0);
    policy.answered(0, executionNanos);
  }
}
