package org.jmpipool.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import org.jmpipool.MpiPoolExecutor;
import org.jmpipool.TaskContext;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;

/** The extension run on sample test classes through the JUnit test kit. */
@Timeout(60)
class JmpipoolExtensionTest {

  /** What the sample tests were given, in the order they ran. */
  static final List<ExecutorService> SEEN = new CopyOnWriteArrayList<>();

  private static EngineExecutionResults run(Class<?>... classes) {
    SEEN.clear();
    var request = EngineTestKit.engine("junit-jupiter");
    for (Class<?> type : classes) {
      request.selectors(selectClass(type));
    }
    return request.execute();
  }

  @ExtendWith(JmpipoolExtension.class)
  static class FieldAndParameter {
    @LocalPool(threads = 3)
    MpiPoolExecutor pool;

    @Test
    void field() throws Exception {
      SEEN.add(pool);
      int rank = pool.submit(() -> TaskContext.current().rank()).get();
      assertTrue(rank >= 1 && rank <= 3, "rank " + rank);
    }

    @Test
    void parameter(@LocalPool(threads = 3) ExecutorService same, @LocalPool(threads = 1) MpiPoolExecutor other) {
      SEEN.add(same);
      SEEN.add(other);
    }
  }

  @ExtendWith(JmpipoolExtension.class)
  static class AnotherClass {
    @Test
    void parameter(@LocalPool(threads = 3) MpiPoolExecutor pool) {
      SEEN.add(pool);
    }
  }

  @Test
  void poolsOfTheSameKindAreSharedByTheRunAndClosedAtItsEnd() {
    EngineExecutionResults results = run(FieldAndParameter.class, AnotherClass.class);
    results.testEvents().assertStatistics(stats -> stats.started(3).succeeded(3));
    assertEquals(4, SEEN.size(), SEEN.toString());
    MpiPoolExecutor shared = (MpiPoolExecutor) SEEN.get(0);
    assertEquals(3, shared.workers());
    SEEN.stream().filter(pool -> ((MpiPoolExecutor) pool).workers() == 3).forEach(pool -> assertSame(shared, pool));
    assertEquals(2, SEEN.stream().distinct().count(), "a 3-thread pool and a 1-thread pool");
    SEEN.forEach(pool -> assertTrue(pool.isTerminated(), pool + " closed when the run ended"));
  }

  @ExtendWith(JmpipoolExtension.class)
  @TestMethodOrder(MethodOrderer.MethodName.class)
  static class ShutsItsPoolDown {
    @Test
    void first(@LocalPool MpiPoolExecutor pool) {
      SEEN.add(pool);
      pool.shutdown();
    }

    @Test
    void second(@LocalPool MpiPoolExecutor pool) throws Exception {
      SEEN.add(pool);
      assertEquals(7, pool.submit(() -> 7).get());
    }
  }

  @Test
  void aTestThatShutsItsPoolDownDoesNotBreakTheNextOne() {
    run(ShutsItsPoolDown.class).testEvents().assertStatistics(stats -> stats.succeeded(2));
    assertNotSame(SEEN.get(0), SEEN.get(1));
  }

  @ExtendWith(JmpipoolExtension.class)
  static class NeedsMpi {
    @Test
    void spawned(@SpawnedPool(workers = 2) MpiPoolExecutor pool) {
      SEEN.add(pool);
    }
  }

  /** This module's unit tests run without Open MPI's Java bindings on the classpath. */
  @Test
  void withoutMpiASpawnedPoolTestIsSkippedWithTheReason() {
    EngineExecutionResults results = run(NeedsMpi.class);
    results.testEvents().assertStatistics(stats -> stats.aborted(1).failed(0));
    Event aborted = results.testEvents().aborted().list().get(0);
    String reason = aborted.getPayload(org.junit.platform.engine.TestExecutionResult.class).orElseThrow()
        .getThrowable().orElseThrow().getMessage();
    assertTrue(reason.startsWith("skipped: spawned pool of 2 MPI workers unavailable:"), reason);
    assertTrue(reason.contains("Java bindings"), reason);
    assertTrue(SEEN.isEmpty());
  }
}
