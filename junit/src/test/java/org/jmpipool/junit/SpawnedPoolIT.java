package org.jmpipool.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.List;
import java.util.TreeSet;
import org.jmpipool.MpiPoolExecutor;
import org.jmpipool.TaskContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** Spawned pools injected into tests, with Open MPI present (the build requires it here). */
@Timeout(120)
@ExtendWith(JmpipoolExtension.class)
class SpawnedPoolIT {

  private static MpiPoolExecutor first;

  @SpawnedPool(workers = 2)
  MpiPoolExecutor field;

  @Test
  void tasksRunInTheSpawnedWorkerProcesses(@SpawnedPool(workers = 2) MpiPoolExecutor pool) throws Exception {
    assertSame(field, pool, "one pool for the run");
    long self = ProcessHandle.current().pid();
    List<String> where = pool.map((Integer i) -> TaskContext.current().rank() + "@" + ProcessHandle.current().pid(),
        List.of(1, 2, 3, 4, 5, 6, 7, 8)).toList();
    TreeSet<String> ranks = new TreeSet<>();
    for (String place : where) {
      ranks.add(place.split("@")[0]);
      assertNotEquals(Long.toString(self), place.split("@")[1], "tasks run in other processes");
    }
    assertEquals(2, pool.workers());
    remember(pool);
  }

  @Test
  void theSamePoolServesTheNextTest(@SpawnedPool(workers = 2) MpiPoolExecutor pool) throws Exception {
    assertEquals(3, pool.submit(() -> 1 + 2).get());
    remember(pool);
  }

  private static synchronized void remember(MpiPoolExecutor pool) {
    if (first == null) {
      first = pool;
    }
    assertSame(first, pool);
  }
}
