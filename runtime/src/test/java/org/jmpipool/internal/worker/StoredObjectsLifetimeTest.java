package org.jmpipool.internal.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jmpipool.Jmpipool;
import org.jmpipool.RemoteRef;
import org.jmpipool.TaskContext;
import org.jmpipool.WorkerPool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The lifetime of a WorkerPool's stored objects on its workers. */
@Timeout(60)
class StoredObjectsLifetimeTest {

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
        stored = pool.applyAll(StoredObjectsLifetimeTest::storedHere);
      } while (!stored.equals(List.of(0, 0)) && System.nanoTime() < deadline);
      assertEquals(List.of(0, 0), stored, "unreachable handles free the workers' copies");
    }
  }

  private static void pushAndForget(WorkerPool pool) {
    RemoteRef<int[]> forgotten = pool.push(new int[1000]);
    assertEquals(List.of(1000, 1000), pool.applyAll(array -> array.length, forgotten));
  }
}
