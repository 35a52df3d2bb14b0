package org.jmpipool.it;

import java.time.Duration;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.jmpipool.Backend;
import org.jmpipool.Jmpipool;
import org.jmpipool.PoolBuilder;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.Timeout;

/** The pools' contract ({@link PoolContract}) on the embedded backends: local pools and spawned MPI workers. */
@Timeout(600)
class EmbeddedPoolContractIT {

  @TestFactory
  Stream<DynamicNode> theContractHoldsOnEveryEmbeddedBackend() {
    return Stream.of(
        suite("local pools, serialized", () -> Jmpipool.builder().backend(Backend.LOCAL)),
        suite("local pools, objects handed over", () -> Jmpipool.builder().backend(Backend.LOCAL).serializeTasks(false)),
        suite("spawned MPI workers", () -> Jmpipool.builder().backend(Backend.SPAWN)
            .startTimeout(Duration.ofSeconds(60))));
  }

  private static DynamicNode suite(String name, Supplier<PoolBuilder> backend) {
    return DynamicContainer.dynamicContainer(name, PoolContract.checks(backend).stream()
        .map(check -> DynamicTest.dynamicTest(check.name(), () -> check.check().run())));
  }
}
