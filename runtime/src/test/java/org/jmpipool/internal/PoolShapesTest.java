package org.jmpipool.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.jmpipool.Jmpipool;
import org.jmpipool.MapOptions;
import org.jmpipool.MapResults;
import org.jmpipool.MpiPoolExecutor;
import org.jmpipool.RemoteRef;
import org.jmpipool.TaskContext;
import org.jmpipool.WorkerPool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The parts of the pool shapes that need the engine's insides: broadcast tree, chunk sizes, stored objects' lifetime, seeds. */
@Timeout(60)
class PoolShapesTest {

  @Test
  void theBroadcastTreeReachesEveryWorkerOnceWithFewCopiesPerSender() {
    for (int workers = 1; workers <= 40; workers++) {
      PoolLayout layout = PoolLayout.allRanks(workers + 1, 1);
      int[] received = new int[workers];
      List<Integer> senders = new ArrayList<>(List.of(0));
      int maxCopies = 0;
      while (!senders.isEmpty()) {
        int position = senders.remove(0);
        int[] targets = layout.broadcastTargets(position);
        maxCopies = Math.max(maxCopies, targets.length);
        for (int target : targets) {
          received[target]++;
          senders.add(target + 1);
        }
      }
      for (int worker = 0; worker < workers; worker++) {
        assertEquals(1, received[worker], "worker " + worker + " of " + workers);
      }
      assertTrue(maxCopies <= 32 - Integer.numberOfLeadingZeros(workers), workers + " workers: " + maxCopies);
    }
  }

  @Test
  void layoutsTravelIntact() {
    PoolLayout layout = new PoolLayout(new int[] {3, 1, 7}, 4);
    assertEquals(layout, PoolLayout.decode(layout.encode()));
    assertEquals(2, layout.indexOf(7));
    assertEquals(-1, layout.indexOf(2));
    assertThrows(IllegalArgumentException.class, () -> new PoolLayout(new int[] {1}, 0));
  }

  @Test
  void mapsThatReadTheirInputsAtOnceUsePythonsChunkSizeUnlessOneIsGiven() {
    assertEquals(13, ProcessPool.chunkSize(100, 2, 0));
    assertEquals(1, ProcessPool.chunkSize(3, 4, 0));
    assertEquals(250, ProcessPool.chunkSize(1000, 1, 0));
    assertEquals(7, ProcessPool.chunkSize(1000, 1, 7));
    assertEquals(2, ProcessPool.chunkSize(5, 0, 0), "a broken pool (0 workers) still gets a valid size");
  }

  @Test
  void aMapDrawsTheSameNumbersWhateverTheThreadsAndChunks() {
    List<Integer> inputs = IntStream.range(0, 200).boxed().toList();
    List<Long> reference = draws(Pools.local(1, true, new PoolOptions(1, null, 5)), inputs, 1);
    assertEquals(reference, draws(Pools.local(3, true, new PoolOptions(2, null, 5)), inputs, 17));
    assertEquals(reference, draws(Pools.local(2, false, new PoolOptions(3, null, 5)), inputs, 64));
    assertNotEquals(reference, draws(Pools.local(1, true, new PoolOptions(1, null, 6)), inputs, 1));
    assertEquals(inputs.size(), reference.stream().distinct().count());
  }

  private static List<Long> draws(MpiPoolExecutor pool, List<Integer> inputs, int chunk) {
    try (pool; MapResults<Long> results = pool.map(i -> TaskContext.current().random().nextLong(), inputs,
        MapOptions.defaults().chunkSize(chunk))) {
      return results.toList();
    }
  }

  private static int storedHere() {
    return ((RunningTask) TaskContext.current()).worker().store.size();
  }

  @Test
  void storedObjectsStayWhileTasksUseThemAndGoWhenTheirHandlesDo() throws Exception {
    try (WorkerPool pool = Jmpipool.builder().workers(2).buildWorkerPool()) {
      RemoteRef<String> closedEarly = pool.push("kept for the task");
      CompletableFuture<Integer> user = pool.executor().submit(() -> {
        Thread.sleep(300);
        return closedEarly.get().length();
      });
      closedEarly.close();
      assertEquals(17, user.get(30, TimeUnit.SECONDS), "a task in flight keeps the object");
      pushAndForget(pool);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      List<Integer> stored;
      do {
        System.gc();
        Thread.sleep(50);
        stored = pool.applyAll(PoolShapesTest::storedHere);
      } while (!stored.equals(List.of(0, 0)) && System.nanoTime() < deadline);
      assertEquals(List.of(0, 0), stored, "unreachable handles free the workers' copies");
    }
  }

  private static void pushAndForget(WorkerPool pool) {
    RemoteRef<int[]> forgotten = pool.push(new int[1000]);
    assertEquals(List.of(1000, 1000), pool.applyAll(array -> array.length, forgotten));
  }
}
