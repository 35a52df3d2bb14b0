package org.jmpipool.internal.master;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.esotericsoftware.kryo.kryo5.Kryo;
import com.esotericsoftware.kryo.kryo5.KryoSerializable;
import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jmpipool.MpiPoolExecutor;
import org.jmpipool.internal.Pools;
import org.jmpipool.internal.loop.CommunicationThread;
import org.jmpipool.internal.wire.Wire;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What the master's side does whatever the workers are, on in-process workers: where results are
 * decoded and stages run, and how a pool ends (shutdown, shutdownNow, close). The executor's
 * contract, the same on every backend, is packaging's Contract.
 */
@Timeout(30)
class ExecutorSemanticsTest {

  private final MpiPoolExecutor pool = InProcessPool.start(2);

  @AfterEach
  void closePool() throws InterruptedException {
    pool.shutdownNow();
    assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS), "the pool terminates");
  }

  /** A result large enough to travel in native buffers of its own (see {@link Wire#LARGE_PAYLOAD}). */
  static byte[] largeResult(int fill) {
    return largeResult(fill, 1 << 20);
  }

  static byte[] largeResult(int fill, int length) {
    byte[] bytes = new byte[length];
    java.util.Arrays.fill(bytes, (byte) fill);
    return bytes;
  }

  /**
   * A caller that finds no outcome yet and then sees that one arrived must take it, not wait for
   * another thread to: the communication thread leaves it to a caller it sees waiting. Quick
   * round trips, one after another, hit that moment now and then; a lost outcome shows as a
   * timeout.
   */
  @Test
  void everyResultReachesItsCallerThroughManyQuickRoundTrips() throws Exception {
    for (int i = 0; i < 60_000; i++) {
      int expected = i;
      try {
        assertEquals(expected, pool.submit(() -> expected).get(5, TimeUnit.SECONDS));
      } catch (TimeoutException e) {
        throw new AssertionError("the result of task " + expected + " never reached its caller", e);
      }
    }
  }

  /**
   * Callers on many threads run the passes of the master's loop while they wait, and one caller's
   * pass receives the others' results: each still gets its own, none is lost, whether it waits at
   * once or submits a few and collects them later (a submission while the communication thread
   * rests must go out all the same).
   */
  @Test
  void callersOnManyThreadsEachGetTheirOwnResultsWhileTheyRunTheLoopsPasses() throws Exception {
    List<Thread> callers = new ArrayList<>();
    List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    for (int t = 0; t < 6; t++) {
      int caller = t;
      Thread thread = new Thread(() -> {
        try {
          for (int i = 0; i < 3_000; i++) {
            long expected = caller * 1_000_000L + i;
            if (i % 10 == 0) {
              List<CompletableFuture<Long>> later = new ArrayList<>();
              for (int k = 0; k < 5; k++) {
                long value = expected + k * 100_000L;
                later.add(pool.submit(() -> value));
              }
              for (int k = 0; k < 5; k++) {
                assertEquals(expected + k * 100_000L, later.get(k).get(5, TimeUnit.SECONDS));
              }
            } else {
              assertEquals(expected, pool.submit(() -> expected).get(5, TimeUnit.SECONDS));
            }
          }
        } catch (Throwable failure) {
          failures.add(failure);
        }
      }, "caller-" + t);
      thread.start();
      callers.add(thread);
    }
    for (Thread thread : callers) {
      thread.join();
    }
    assertEquals(List.of(), failures);
  }

  /**
   * An idle task thread runs its worker's loop and so receives the cancellation of a task another
   * task thread of the same worker runs: that task is still interrupted, and its thread freed.
   */
  @Test
  void aTaskThreadRunningTheWorkersLoopInterruptsItsNeighboursCancelledTask() throws Exception {
    MpiPoolExecutor twoThreads = Pools.local(1, true, new PoolOptions(2, null, 0));
    try {
      CompletableFuture<Integer> running = twoThreads.submit(() -> sleepThenReturn(60_000));
      for (int i = 0; i < 100; i++) {
        assertEquals(0, twoThreads.submit(() -> 0).get(5, TimeUnit.SECONDS), "the other task thread serves");
      }
      assertTrue(running.cancel(true));
      long start = System.nanoTime();
      List<CompletableFuture<Long>> both = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        both.add(twoThreads.submit(() -> {
          Thread.sleep(300);
          return System.nanoTime();
        }));
      }
      long firstEnd = both.get(0).get(10, TimeUnit.SECONDS);
      long secondEnd = both.get(1).get(10, TimeUnit.SECONDS);
      assertTrue(Math.abs(firstEnd - secondEnd) < TimeUnit.MILLISECONDS.toNanos(250),
          "both task threads run again: the cancelled task was interrupted");
      assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(5));
    } finally {
      twoThreads.shutdownNow();
      assertTrue(twoThreads.awaitTermination(10, TimeUnit.SECONDS));
    }
  }

  /**
   * Submitted tasks, however many wait at once, go one at a time to the least loaded worker: a
   * program that submits one long task per worker and then many more has its long tasks on
   * different workers.
   */
  @Test
  void tasksSubmittedTogetherSpreadOnePerWorkerFirst() throws Exception {
    for (int round = 0; round < 5; round++) {
      List<CompletableFuture<Integer>> futures = new ArrayList<>();
      for (int i = 0; i < 42; i++) {
        long millis = i < 2 ? 200 : 0;
        futures.add(pool.submit(() -> {
          Thread.sleep(millis);
          return org.jmpipool.Jmpipool.rank();
        }));
      }
      assertNotEquals(futures.get(0).get(), futures.get(1).get(), "round " + round + ": both long tasks on one worker");
      for (CompletableFuture<Integer> future : futures) {
        future.get();
      }
    }
  }

  @Test
  void resultsNobodyWaitsForAreDecodedOnTheDecoderThreadNotTheCommunicationThread() throws Exception {
    // The callers wait for the dependent stages, not for the pool's futures themselves; the tasks
    // take a moment, so that each stage is attached before its future completes.
    String largeOn = pool.submit(() -> {
      Thread.sleep(100);
      return largeResult(1);
    }).thenApply(result -> Thread.currentThread().getName()).get();
    String smallOn = pool.submit(() -> sleepThenReturn(100)).thenApply(result -> Thread.currentThread().getName()).get();
    String failureOn = pool.<String>submit(() -> {
      Thread.sleep(100);
      throw new IllegalStateException("failed");
    }).exceptionally(failure -> Thread.currentThread().getName()).get();
    assertEquals(List.of("jmpipool-decoder", "jmpipool-decoder", "jmpipool-decoder"), List.of(largeOn, smallOn, failureOn));
  }

  @Test
  void aCallerWaitingForAResultDecodesItItself() throws Exception {
    CompletableFuture<Integer> result = pool.submit(() -> sleepThenReturn(200));
    CompletableFuture<Thread> decodedOn = result.thenApply(value -> Thread.currentThread());
    assertEquals(200, result.get());
    assertEquals(Thread.currentThread(), decodedOn.getNow(null));
    CompletableFuture<Object> failure = pool.submit(() -> {
      Thread.sleep(200);
      throw new IllegalStateException("failed");
    });
    CompletableFuture<Thread> failureDecodedOn = failure.handle((value, thrown) -> Thread.currentThread());
    ExecutionException e = assertThrows(ExecutionException.class, failure::get);
    assertEquals("failed", e.getCause().getMessage());
    assertEquals(Thread.currentThread(), failureDecodedOn.getNow(null));
  }

  @Test
  void aResultWhoseCallerStoppedWaitingIsStillDecoded() throws Exception {
    CompletableFuture<Integer> result = pool.submit(() -> sleepThenReturn(300));
    assertThrows(TimeoutException.class, () -> result.get(50, TimeUnit.MILLISECONDS));
    CompletableFuture<String> decodedOn = result.thenApply(value -> Thread.currentThread().getName());
    assertEquals("jmpipool-decoder", decodedOn.get(10, TimeUnit.SECONDS));
    assertEquals(300, result.getNow(null));
  }

  @Test
  void everyLargeResultIsCompleteOnceThePoolHasTerminated() throws Exception {
    // Decoding one of these takes milliseconds, longer than the pool takes to end after the last.
    List<CompletableFuture<byte[]>> results = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      int fill = i;
      results.add(pool.submit(() -> largeResult(fill, 48 << 20)));
    }
    pool.close();
    for (int i = 0; i < results.size(); i++) {
      assertTrue(results.get(i).isDone(), "result " + i + " complete after close()");
      assertEquals((byte) i, results.get(i).getNow(null)[12345], "result " + i);
    }
  }

  @Test
  void aStageOfOneLargeResultMayWaitForAnother() throws Exception {
    CompletableFuture<byte[]> later = pool.submit(() -> {
      Thread.sleep(200);
      return largeResult(2);
    });
    CompletableFuture<Integer> both = pool.submit(() -> largeResult(1))
        .thenApply(first -> first[0] + later.join()[0]);
    assertEquals(3, both.get(10, TimeUnit.SECONDS));
  }

  static Integer square(Integer x) {
    return x * x;
  }

  static int sleepThenReturn(int millis) throws InterruptedException {
    Thread.sleep(millis);
    return millis;
  }

  @Test
  void shutdownFinishesSubmittedTasksAndRejectsNewOnes() throws Exception {
    List<CompletableFuture<Integer>> futures = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      futures.add(pool.submit(() -> sleepThenReturn(20)));
    }
    pool.shutdown();
    pool.shutdown();
    assertTrue(pool.isShutdown());
    assertThrows(RejectedExecutionException.class, () -> pool.submit(() -> 1));
    assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
    assertTrue(pool.isTerminated());
    for (CompletableFuture<Integer> future : futures) {
      assertEquals(20, future.get());
    }
  }

  @Test
  void shutdownNowFromANonAsyncStageStopsThePool() throws Exception {
    CompletableFuture<Integer> queued = pool.submit(() -> sleepThenReturn(5_000));
    CompletableFuture<List<Runnable>> stopping = pool.submit(() -> sleepThenReturn(300))
        .thenApply(ignored -> pool.shutdownNow());
    stopping.get(10, TimeUnit.SECONDS);
    assertTrue(pool.isShutdown());
    assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
    assertTrue(queued.isCompletedExceptionally(), "interrupted or never started: " + queued);
  }

  /**
   * A signal's drain cancels what has not started without interrupting; shutdownNow right after
   * must still interrupt the running tasks, though the workers have not answered the first.
   */
  @Test
  void shutdownNowInterruptsRunningTasksWhileAnEarlierCancellationIsInProgress() throws Exception {
    List<CompletableFuture<Integer>> running = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      running.add(pool.submit(() -> sleepThenReturn(60_000)));
    }
    Thread.sleep(300);
    CompletableFuture<List<Runnable>> drained = ((DistributedExecutor) pool).stopHandingOut("was drained");
    pool.shutdownNow();
    assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS), "the running tasks were interrupted");
    assertTrue(drained.isDone(), "the drain completed");
    for (CompletableFuture<Integer> future : running) {
      assertTrue(future.isCompletedExceptionally(), "interrupted, not finished: " + future);
    }
  }

  /**
   * The outcomes known on the master complete their futures on the communication thread (here, a
   * failure of a task handed over as an object): a stage there that would wait for the pool is
   * refused at once, since only that thread could end the wait.
   */
  @Test
  void blockingCallsFromAStageOnTheCommunicationThreadAreRefusedAtOnce() throws Exception {
    MpiPoolExecutor handingOver = Pools.local(2, false, new PoolOptions(1, null, 0));
    try {
      CompletableFuture<Boolean> onCommunicationThread = new CompletableFuture<>();
      CompletableFuture<List<Runnable>> stopping = handingOver.submit(() -> {
        Thread.sleep(200);
        throw new IllegalStateException("failed");
      }).exceptionally(failure -> {
        onCommunicationThread.complete(CommunicationThread.isCurrent());
        return null;
      }).thenApply(ignored -> handingOver.shutdownNow());
      assertTrue(onCommunicationThread.get(10, TimeUnit.SECONDS), "the stage ran on the communication thread");
      ExecutionException e = assertThrows(ExecutionException.class, () -> stopping.get(10, TimeUnit.SECONDS));
      assertInstanceOf(IllegalStateException.class, e.getCause());
      assertTrue(e.getCause().getMessage().startsWith("shutdownNow would block"), e.getCause().getMessage());
      assertEquals(1, handingOver.submit(() -> 1).get(10, TimeUnit.SECONDS), "the pool goes on");
    } finally {
      handingOver.shutdownNow();
      assertTrue(handingOver.awaitTermination(10, TimeUnit.SECONDS));
    }
  }

  /** Takes a second to decode: stands for a large result. */
  static final class SlowToDecode implements KryoSerializable {
    @Override
    public void write(Kryo kryo, Output output) {
      output.writeInt(1);
    }

    @Override
    public void read(Kryo kryo, Input input) {
      input.readInt();
      try {
        Thread.sleep(1_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Test
  void aCallerWaitingWhileTheDecoderThreadDecodesItsResultSleeps() throws Exception {
    CompletableFuture<SlowToDecode> result = pool.submit(SlowToDecode::new);
    // The result arrives meanwhile with nobody waiting: the decoder thread takes it.
    Thread.sleep(300);
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    long cpuBefore = threads.getCurrentThreadCpuTime();
    result.get(10, TimeUnit.SECONDS);
    long cpuMillis = (threads.getCurrentThreadCpuTime() - cpuBefore) / 1_000_000;
    assertTrue(cpuMillis < 300, "the caller spun for " + cpuMillis + " ms of CPU while the result was decoded elsewhere");
  }

  @Test
  void closeWaitsForTasks() throws Exception {
    CompletableFuture<Integer> future = pool.submit(() -> sleepThenReturn(100));
    pool.close();
    assertTrue(pool.isTerminated());
    assertEquals(100, future.getNow(-1));
  }
}
