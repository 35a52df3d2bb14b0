package org.jmpipool.internal.master;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
      order[i] = policy.pick(worker -> true);
      policy.sent(order[i]);
    }
    assertEquals("[0, 1, 2, 0, 1, 2]", java.util.Arrays.toString(order));
    policy.answered(1, MILLISECOND);
    assertEquals(1, policy.pick(worker -> true), "the worker that answered holds the fewest");
  }

  @Test
  void aCallerWaitingForEachResultKeepsOneWorkerBusy() {
    DispatchPolicy policy = new DispatchPolicy(4, 1);
    for (int round = 0; round < 10; round++) {
      int worker = policy.pick(w -> true);
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
      policy.sent(policy.pick(worker -> true));
    }
    assertEquals(-1, policy.pick(worker -> true), "every worker holds its credit");
    policy.answered(0, 10 * MILLISECOND);
    assertEquals(-1, policy.pick(worker -> worker != 0), "worker 0 has room but does not accept now");
    assertEquals(0, policy.pick(worker -> true));
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
