package org.jmpipool.it;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.jmpipool.Backend;
import org.jmpipool.Jmpipool;
import org.jmpipool.MpiPoolExecutor;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.Timeout;

/**
 * The executor's contract ({@link Contract}) on the embedded backends: local pools, spawned MPI
 * workers, and workers on named hosts.
 */
@Timeout(300)
class EmbeddedContractIT {

  @TestFactory
  Stream<DynamicNode> theContractHoldsOnEveryEmbeddedBackend() {
    return Stream.of(
        suite("local pool, serialized", () -> Jmpipool.local(3), true),
        suite("local pool, objects handed over", () -> Jmpipool.builder().workers(3).serializeTasks(false).build(),
            false),
        suite("spawned MPI workers", () -> Jmpipool.builder().backend(Backend.SPAWN).workers(2)
            .startTimeout(Duration.ofSeconds(60)).build(), true),
        suite("MPI workers on named hosts (a job of their own, relayed)", () -> Jmpipool.builder()
            .backend(Backend.SPAWN).workers(2).hosts("localhost").startTimeout(Duration.ofSeconds(60)).build(), true));
  }

  private interface PoolFactory {
    MpiPoolExecutor start();
  }

  /** One pool per backend, its checks run in order, then it must terminate. */
  private static DynamicNode suite(String name, PoolFactory factory, boolean serializes) {
    MpiPoolExecutor[] pool = new MpiPoolExecutor[1];
    Stream<DynamicTest> start = Stream.of(DynamicTest.dynamicTest("start", () -> pool[0] = factory.start()));
    Stream<DynamicTest> checks = Stream.of(0).flatMap(ignored -> {
      List<Contract.Named> named = Contract.checks(pool[0], serializes);
      return named.stream().map(check -> DynamicTest.dynamicTest(check.name(), () -> check.check().run()));
    });
    Stream<DynamicTest> end = Stream.of(DynamicTest.dynamicTest("terminates", () -> {
      pool[0].shutdownNow();
      if (!pool[0].awaitTermination(30, TimeUnit.SECONDS)) {
        throw new AssertionError(name + " did not terminate");
      }
    }));
    return DynamicContainer.dynamicContainer(name, Stream.of(start, checks, end).flatMap(s -> s));
  }
}
