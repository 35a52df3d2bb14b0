package org.jmpipool.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Jobs spread over three nodes of a cluster of network namespaces on this machine: each rank on
 * a host of its own name and address, MPI between them over TCP, the MPI launcher started on the
 * first node and reaching the others through the cluster's remote-start agent instead of ssh.
 */
@Timeout(180)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClusterIT {

  private NamespaceCluster cluster;

  @BeforeAll
  void startCluster() throws Exception {
    cluster = NamespaceCluster.start(3);
  }

  @AfterAll
  void stopCluster() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  /** The launcher on node1, one rank on each node. */
  private Jobs.Result onThreeNodes(Configuration configuration, Class<?> program) {
    return onThreeNodes(configuration, program, (out, marker) -> { });
  }

  /** The launcher on node1, one rank on each node, the test acting while the job runs. */
  private Jobs.Result onThreeNodes(Configuration configuration, Class<?> program, Jobs.WhileRunning whileRunning) {
    return Jobs.launchThrough(cluster.on("node1"), configuration, Map.of(), List.of("-n", "3",
        "--hostfile", cluster.hostfile(configuration).toString(), "--launch-agent", cluster.agent().toString(),
        "-cp", Jobs.TEST_CLASSES, program.getName()), whileRunning);
  }

  /** What happens to a node while a job runs. */
  @FunctionalInterface
  private interface Fault {
    void strike(String node) throws Exception;
  }

  /** A map on three nodes; a second into it, node3 (rank 2) fails. */
  private Jobs.Result failingNode3DuringAMap(Configuration configuration, Fault fault, long[] struckAt) {
    return onThreeNodes(configuration, Programs.LongMap.class, (out, marker) -> {
      Jobs.awaitOutput(out, marker, "map started");
      Thread.sleep(1_000);
      struckAt[0] = System.nanoTime();
      fault.strike("node3");
    });
  }

  /** How long ago a fault struck, in whole seconds; printed to the test's output, for the record. */
  private static long secondsSince(long nanoTime, String fault, Configuration configuration) {
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanoTime);
    System.out.printf("%s: the job ended %d ms after node3 was %s%n", configuration, millis, fault);
    return millis / 1000;
  }

  /**
   * Nothing tells anyone that a node is cut off: the ranks' heartbeats (10 s) and mpirun's
   * keepalive probes (at most 8 s) end the job, with a message naming the node and the rank it
   * held; the ranks on the cut node end themselves and their MPI daemon. Not MPICH: its UCX sees
   * that the nodes share one machine and joins their ranks through shared memory, which no cut
   * link stops (held to TCP with UCX_TLS=tcp, MPICH 4.0's MPI_Finalize hangs in about one job in
   * ten here).
   */
  @ParameterizedTest
  @EnumSource(value = Configuration.class, names = {"OPEN_MPI_BINDINGS", "OPEN_MPI_FFM"})
  void aJobEndsWithinSecondsOfANodeBeingCutOffNamingTheNodeAndItsRank(Configuration configuration) throws Exception {
    long[] cutAt = new long[1];
    try {
      Jobs.Result result = failingNode3DuringAMap(configuration, cluster::cut, cutAt);
      long seconds = secondsSince(cutAt[0], "cut off", configuration);
      assertNotEquals(0, result.status(), result.toString());
      assertFalse(result.out().contains("sum "), result.toString());
      assertTrue(result.all().contains("rank 2 on node3"), result.toString());
      assertTrue(seconds <= 25, "the job ended " + seconds + " s after the cut\n" + result);
      cluster.expectNothingLeft("after the job");
    } finally {
      cluster.reconnect("node3");
    }
  }

  /**
   * A node that dies closes its connections: the MPI launcher notices at once and ends the job.
   * Open MPI signals the ranks first, and rank 0 says how long each worker has been silent (Hydra
   * kills them at once, and says only that a proxy's connection closed).
   */
  @ParameterizedTest
  @EnumSource(Configuration.class)
  void aJobEndsWithinSecondsOfANodeBeingKilled(Configuration configuration) throws Exception {
    long[] killedAt = new long[1];
    Jobs.Result result = failingNode3DuringAMap(configuration, cluster::kill, killedAt);
    long seconds = secondsSince(killedAt[0], "killed", configuration);
    assertNotEquals(0, result.status(), result.toString());
    assertFalse(result.out().contains("sum "), result.toString());
    if (configuration != Configuration.MPICH_FFM) {
      assertTrue(result.all().contains("rank 2 on node3"), result.toString());
    }
    assertTrue(seconds <= 15, "the job ended " + seconds + " s after the node was killed\n" + result);
    cluster.expectNothingLeft("after the job");
  }

  /**
   * A JVM on node1 that embeds jmpipool (no launcher) runs a pool on node2 and node3; the
   * cluster's agent reaches them, named in the environment as a user would name ssh's
   * replacement.
   */
  private Jobs.Result poolsFromNode1(Configuration configuration, Fault fault, long[] struckAt, String secondHosts) {
    Map<String, String> agent = configuration == Configuration.MPICH_FFM
        ? Map.of("HYDRA_LAUNCHER", "rsh", "HYDRA_LAUNCHER_EXEC", cluster.agent().toString())
        : Map.of("OMPI_MCA_plm_rsh_agent", cluster.agent().toString());
    return Jobs.javaThrough(cluster.on("node1"), configuration, agent, (out, marker) -> {
      Jobs.awaitOutput(out, marker, "map started");
      Thread.sleep(1_000);
      struckAt[0] = System.currentTimeMillis();
      fault.strike("node3");
    }, Programs.PoolsOnHosts.class, "node2,node3", secondHosts);
  }

  /** When the pool broke, after the fault, in milliseconds; printed to the test's output, for the record. */
  private static long millisToBreak(Jobs.Result result, long struckAt, String fault, Configuration configuration) {
    Matcher broken = Pattern.compile("broken at (\\d+)").matcher(result.out());
    assertTrue(broken.find(), result.toString());
    long millis = Long.parseLong(broken.group(1)) - struckAt;
    System.out.printf("%s: the pool on other hosts broke %d ms after node3 was %s%n", configuration, millis, fault);
    return millis;
  }

  /**
   * A pool on other hosts is an MPI job of its own: a node of it that dies ends that job, not the
   * JVM that started it, whose pool breaks naming the node's worker, and whose next pool, on the
   * remaining node, works.
   */
  @ParameterizedTest
  @EnumSource(Configuration.class)
  void aPoolOnOtherNodesBreaksWithinSecondsOfANodeBeingKilledAndANewOneWorks(Configuration configuration)
      throws Exception {
    long[] killedAt = new long[1];
    Jobs.Result result = poolsFromNode1(configuration, cluster::kill, killedAt, "node2");
    assertEquals(0, result.status(), result.toString());
    assertTrue(result.out().contains("master on node1\nfirst pool: worker rank 1 on node2, worker rank 2 on node3\n"),
        result.toString());
    assertFalse(result.out().contains("sum "), result.toString());
    assertTrue(millisToBreak(result, killedAt[0], "killed", configuration) <= 15_000, result.toString());
    if (configuration != Configuration.MPICH_FFM) {
      assertTrue(result.out().contains("worker rank 2: worker rank 2 on node3"), result.toString());
    }
    assertTrue(result.out().contains("second pool: worker rank 1 on node2\n"), result.toString());
    cluster.expectNothingLeft("after the pools");
  }

  /** A cut-off node: the relay's heartbeats find its worker silent, and the pool breaks naming it. */
  @ParameterizedTest
  @EnumSource(value = Configuration.class, names = "OPEN_MPI_FFM")
  void aPoolOnOtherNodesBreaksWithinSecondsOfANodeBeingCutOffAndANewOneWorks(Configuration configuration)
      throws Exception {
    long[] cutAt = new long[1];
    try {
      Jobs.Result result = poolsFromNode1(configuration, cluster::cut, cutAt, "node2");
      assertEquals(0, result.status(), result.toString());
      assertTrue(result.out().contains("worker rank 2: worker rank 2 on node3"), result.toString());
      assertTrue(millisToBreak(result, cutAt[0], "cut off", configuration) <= 25_000, result.toString());
      assertTrue(result.out().contains("second pool: worker rank 1 on node2\n"), result.toString());
      cluster.expectNothingLeft("after the pools");
    } finally {
      cluster.reconnect("node3");
    }
  }

  /** Both contract suites: the executor's, and the pools' (collectives and pushed objects travel worker to worker). */
  static Stream<Arguments> contractsOnEveryConfiguration() {
    return Stream.of(Configuration.values())
        .flatMap(configuration -> Stream.of(Contract.class, PoolContract.class).map(suite -> Arguments.of(configuration,
            suite)));
  }

  @ParameterizedTest
  @MethodSource("contractsOnEveryConfiguration")
  void theContractsHoldOnAJobSpreadOverThreeNodes(Configuration configuration, Class<?> suite) throws Exception {
    Jobs.Result result = onThreeNodes(configuration, suite);
    assertEquals(0, result.status(), result.toString());
    assertTrue(result.out().contains("ALL PASSED"), result.toString());
    assertFalse(result.out().contains("FAIL "), result.toString());
    cluster.expectNothingLeft("after the contract's job");
  }

  @ParameterizedTest
  @EnumSource(Configuration.class)
  void tasksAndTheirExceptionsNameTheNodeTheyRanOn(Configuration configuration) throws Exception {
    Jobs.Result result = onThreeNodes(configuration, Programs.WorkerHosts.class);
    assertEquals(0, result.status(), result.toString());
    assertTrue(result.out().contains("master on node1"), result.toString());
    assertTrue(result.out().contains("worker rank 1: task sees node2, exception names node2\n")
        && result.out().contains("worker rank 2: task sees node3, exception names node3\n"), result.toString());
    cluster.expectNothingLeft("after the job");
  }
}
