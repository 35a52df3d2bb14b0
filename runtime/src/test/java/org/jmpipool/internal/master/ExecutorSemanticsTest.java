package org.jmpipool.internal.master;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.esotericsoftware.kryo.kryo5.Kryo;
import com.esotericsoftware.kryo.kryo5.KryoSerializable;
import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.jmpipool.MpiPoolExecutor;
import org.jmpipool.RemoteOrigin;
import org.jmpipool.SerializableCallable;
import org.jmpipool.TaskContext;
import org.jmpipool.TaskSerializationException;
import org.jmpipool.internal.wire.Wire;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The executor's contract, on in-process workers (the agents and codec of a real job, without MPI). */
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
  void submitFormsReturnTheirResults() throws Exception {
    assertEquals(2, pool.workers());
    assertEquals(42, pool.submit(() -> 6 * 7).get());
    assertEquals(49, pool.submit(ExecutorSemanticsTest::square, 7).get());
    assertNull(pool.submit((Runnable & Serializable) () -> { }).get());
    assertEquals("done", pool.submit((Runnable & Serializable) () -> { }, "done").get());
  }

  @Test
  void tasksSeeTheirWorkersContext() throws Exception {
    Set<Integer> ranks = new HashSet<>();
    List<CompletableFuture<int[]>> futures = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      futures.add(pool.submit(() -> {
        Thread.sleep(5);
        TaskContext context = TaskContext.current();
        return new int[] {context.rank(), context.worldSize()};
      }));
    }
    for (CompletableFuture<int[]> future : futures) {
      int[] context = future.get();
      ranks.add(context[0]);
      assertEquals(3, context[1]);
    }
    assertEquals(Set.of(1, 2), ranks);
    assertThrows(IllegalStateException.class, TaskContext::current);
  }

  @Test
  void aTaskExceptionComesBackWithItsClassMessageAndOrigin() {
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> pool.submit((SerializableCallable<Integer>) () -> {
          throw new IllegalArgumentException("bad input 17");
        }).get());
    IllegalArgumentException cause = assertInstanceOf(IllegalArgumentException.class, e.getCause());
    assertEquals("bad input 17", cause.getMessage());
    assertTrue(RemoteOrigin.of(cause).orElseThrow().workerRank() >= 1);
    assertTrue(cause.getStackTrace()[0].getMethodName().contains("lambda"), "the remote stack trace is kept");
  }

  @Test
  void errorsThrownByTasksAreContained() throws Exception {
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> pool.submit((SerializableCallable<Integer>) ExecutorSemanticsTest::recurse).get());
    assertInstanceOf(StackOverflowError.class, e.getCause());
    assertEquals(1, pool.submit(() -> 1).get(), "the worker survives");
  }

  static int recurse() {
    return recurse() + 1;
  }

  @Test
  void aTaskThatCannotBeSerializedFailsOnlyItsOwnFuture() throws Exception {
    Supplier<Integer> local = () -> 1;
    Callable<Integer> notSerializable = local::get;
    ExecutionException e = assertThrows(ExecutionException.class, () -> pool.submit(notSerializable).get());
    TaskSerializationException cause = assertInstanceOf(TaskSerializationException.class, e.getCause());
    assertTrue(cause.getMessage().contains(notSerializable.getClass().getName()), cause.getMessage());
    assertEquals(5, pool.submit(() -> 5).get(), "the pool keeps working");
  }

  @Test
  void aResultThatCannotBeSerializedFailsOnlyItsOwnFuture() throws Exception {
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> pool.submit(() -> (Supplier<String>) () -> "lambda that is not serializable").get());
    TaskSerializationException cause = assertInstanceOf(TaskSerializationException.class, e.getCause());
    assertTrue(cause.getMessage().contains("result"), cause.getMessage());
    assertEquals(6, pool.submit(() -> 6).get());
  }

  /** Can be read only on a worker's task thread: stands for a class the master cannot load. */
  static final class ReadableOnlyInTasks implements KryoSerializable {
    @Override
    public void write(Kryo kryo, Output output) {
      output.writeInt(1);
    }

    @Override
    public void read(Kryo kryo, Input input) {
      input.readInt();
      TaskContext.current();
    }
  }

  @Test
  void aResultTheMasterCannotReadFailsOnlyItsOwnFuture() throws Exception {
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> pool.submit(ReadableOnlyInTasks::new).get());
    TaskSerializationException cause = assertInstanceOf(TaskSerializationException.class, e.getCause());
    assertTrue(cause.getMessage().startsWith("cannot deserialize the result"), cause.getMessage());
    assertEquals(7, pool.submit(() -> 7).get(), "the pool keeps working");
  }

  @Test
  void executeRefusesWhatCannotBeShipped() {
    Runnable plain = () -> { };
    RejectedExecutionException e = assertThrows(RejectedExecutionException.class, () -> pool.execute(plain));
    assertTrue(e.getMessage().contains("Serializable"));
  }

  @Test
  void cancellingAQueuedTaskDropsIt() throws Exception {
    List<CompletableFuture<Integer>> busy = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      busy.add(pool.submit(() -> sleepThenReturn(200)));
    }
    CompletableFuture<Integer> queued = pool.submit(() -> 99);
    assertTrue(queued.cancel(false));
    assertThrows(CancellationException.class, queued::get);
    for (CompletableFuture<Integer> future : busy) {
      assertEquals(200, future.get());
    }
  }

  @Test
  void cancellingWithInterruptStopsARunningTask() throws Exception {
    CompletableFuture<Integer> running = pool.submit(() -> sleepThenReturn(60_000));
    Thread.sleep(200);
    assertTrue(running.cancel(true));
    assertEquals(3, pool.submit(() -> 3).get(10, TimeUnit.SECONDS), "the worker is free again");
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
  void shutdownNowCancelsQueuedTasksInterruptsRunningOnesAndReturnsTheUnstarted() throws Exception {
    List<CompletableFuture<Integer>> futures = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      futures.add(pool.submit(() -> sleepThenReturn(60_000)));
    }
    Thread.sleep(300);
    List<Runnable> unstarted = pool.shutdownNow();
    assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS), "interrupted tasks end and the pool terminates");
    int cancelled = 0;
    for (CompletableFuture<Integer> future : futures) {
      assertTrue(future.isDone(), "no future stays pending");
      if (future.isCancelled()) {
        cancelled++;
      }
    }
    assertEquals(48, unstarted.size(), "all but the two running tasks never started");
    assertTrue(cancelled >= 48);
  }

  @Test
  void invokeAllAndInvokeAnyFollowTheJdkContract() throws Exception {
    List<Callable<Integer>> tasks = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      int value = i;
      tasks.add((Callable<Integer> & Serializable) () -> value);
    }
    List<Future<Integer>> results = pool.invokeAll(tasks);
    for (int i = 0; i < 8; i++) {
      assertTrue(results.get(i).isDone());
      assertEquals(i, results.get(i).get());
    }
    List<Callable<Integer>> slow = List.of(
        (Callable<Integer> & Serializable) () -> sleepThenReturn(50),
        (Callable<Integer> & Serializable) () -> sleepThenReturn(60_000));
    List<Future<Integer>> timed = pool.invokeAll(slow, 1, TimeUnit.SECONDS);
    assertEquals(50, timed.get(0).get());
    assertTrue(timed.get(1).isCancelled());

    List<Callable<Integer>> anyOf = List.of(
        (Callable<Integer> & Serializable) () -> {
          throw new IllegalStateException("first fails");
        },
        (Callable<Integer> & Serializable) () -> sleepThenReturn(100));
    assertEquals(100, pool.invokeAny(anyOf));
    List<Callable<Integer>> allFail = List.of((Callable<Integer> & Serializable) () -> {
      throw new IllegalStateException("fails");
    });
    assertThrows(ExecutionException.class, () -> pool.invokeAny(allFail));
    assertThrows(TimeoutException.class, () -> pool.invokeAny(
        List.of((Callable<Integer> & Serializable) () -> sleepThenReturn(60_000)), 200, TimeUnit.MILLISECONDS));
  }

  @Test
  void manyThreadsSubmittingAtOnceEachGetTheirOwnResults() throws Exception {
    ExecutorService callers = Executors.newFixedThreadPool(8);
    try {
      List<Future<Boolean>> checks = new ArrayList<>();
      for (int thread = 0; thread < 8; thread++) {
        int base = thread * 1_000_000;
        checks.add(callers.submit(() -> {
          List<CompletableFuture<Integer>> futures = new ArrayList<>();
          for (int i = 0; i < 500; i++) {
            futures.add(pool.submit(ExecutorSemanticsTest::square, base + i));
          }
          List<Integer> mapped = pool.map((Integer x) -> x + base, List.of(1, 2, 3, 4, 5)).toList();
          for (int i = 0; i < 500; i++) {
            if (futures.get(i).get() != (base + i) * (base + i)) {
              return false;
            }
          }
          return mapped.equals(List.of(base + 1, base + 2, base + 3, base + 4, base + 5));
        }));
      }
      for (Future<Boolean> check : checks) {
        assertTrue(check.get());
      }
    } finally {
      callers.shutdownNow();
    }
  }

  @Test
  void aNonAsyncStageMayWaitForAnotherResult() throws Exception {
    CompletableFuture<Integer> chained =
        pool.submit(() -> sleepThenReturn(300)).thenApply(x -> pool.submit(() -> x + 1).join());
    assertEquals(301, chained.get(10, TimeUnit.SECONDS));
  }

  @Test
  void aNonAsyncStageMayWaitForResultsThatArriveWhileItWaits() throws Exception {
    CompletableFuture<Integer> second = pool.submit(() -> sleepThenReturn(600));
    CompletableFuture<Integer> first = pool.submit(() -> sleepThenReturn(200));
    CompletableFuture<Integer> third = pool.submit(() -> sleepThenReturn(400));
    // The stage waits through a future of its own, not through the pool's futures.
    CompletableFuture<Integer> sum = first.thenApply(
        x -> CompletableFuture.allOf(second, third).thenApply(done -> x + second.join() + third.join()).join());
    assertEquals(1200, sum.get(10, TimeUnit.SECONDS));
  }

  @Test
  void closingThePoolFromANonAsyncStageFailsInsteadOfHanging() {
    CompletableFuture<Void> closing = pool.submit(() -> sleepThenReturn(300)).thenRun(pool::close);
    ExecutionException e = assertThrows(ExecutionException.class, () -> closing.get(10, TimeUnit.SECONDS));
    assertInstanceOf(IllegalStateException.class, e.getCause());
    assertTrue(e.getCause().getMessage().startsWith("close would block"), e.getCause().getMessage());
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

  @Test
  void closeWaitsForTasks() throws Exception {
    CompletableFuture<Integer> future = pool.submit(() -> sleepThenReturn(100));
    pool.close();
    assertTrue(pool.isTerminated());
    assertEquals(100, future.getNow(-1));
  }
}
