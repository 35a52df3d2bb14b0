package org.jmpipool.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

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
    return Jobs.launchThrough(cluster.on("node1"), configuration, Map.of(), List.of("-n", "3",
        "--hostfile", cluster.hostfile(configuration).toString(), "--launch-agent", cluster.agent().toString(),
        "-cp", Jobs.TEST_CLASSES, program.getName()));
  }

  @ParameterizedTest
  @EnumSource(Configuration.class)
  void theContractHoldsOnAJobSpreadOverThreeNodes(Configuration configuration) throws Exception {
    Jobs.Result result = onThreeNodes(configuration, Contract.class);
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
