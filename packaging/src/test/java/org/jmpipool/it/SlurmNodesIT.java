package org.jmpipool.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Batch jobs on SLURM over three nodes of a cluster of network namespaces
 * ({@code src/test/cluster/slurm-cluster.sh}): slurmctld on node1, a slurmd on each node under
 * its own host name and address, the templates users copy ({@code packaging/slurm}) submitted
 * from node1. A cluster of its own: the node faults of {@link ClusterIT} would leave SLURM with
 * nodes down.
 */
@Timeout(300)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SlurmNodesIT {

  private static final Path SLURM_SCRIPT = Jobs.HOME.resolve("packaging/src/test/cluster/slurm-cluster.sh");

  private NamespaceCluster cluster;
  private SlurmCluster slurm;

  @BeforeAll
  void startClusters() throws Exception {
    cluster = NamespaceCluster.start(3);
    slurm = SlurmCluster.start(List.of(SLURM_SCRIPT.toString(), "start", cluster.directory().toString()),
        cluster.directory().resolve("jobs"), cluster.on("node1"));
    cluster.allowDaemons("slurmctld", "slurmscriptd", "slurmd");
  }

  @AfterAll
  void stopClusters() throws Exception {
    if (cluster == null) {
      return;
    }
    try {
      Script.Outcome stopped = Script.run(List.of(SLURM_SCRIPT.toString(), "stop", cluster.directory().toString()), 60);
      assertEquals(0, stopped.status(), "stopping SLURM: " + stopped.err());
    } finally {
      cluster.close();
    }
  }

  /** SLURM places one rank on each node; the template starts them with srun. */
  @ParameterizedTest
  @EnumSource(Configuration.class)
  void aSeveralNodeBatchJobRunsOneRankOnEachNode(Configuration configuration) throws Exception {
    SlurmCluster.Job job = slurm.sbatch(configuration, "several-nodes.sbatch",
        List.of("--nodes=3", "--ntasks-per-node=1"), "", 120, Programs.WorkerHosts.class.getName());
    assertEquals("COMPLETED", job.state(), job.toString());
    assertEquals(0, job.exitCode(), job.toString());
    assertTrue(job.output().contains("master on node1\n")
        && job.output().contains("worker rank 1: task sees node2, exception names node2\n")
        && job.output().contains("worker rank 2: task sees node3, exception names node3\n"), job.toString());
    cluster.expectNothingLeft("after the batch job");
  }

  /** One JVM per node, a task thread per CPU SLURM gave it. */
  @Test
  void aRankPerNodeBatchJobRunsTasksOnThreadsOnEveryWorkerNode() throws Exception {
    SlurmCluster.Job job = slurm.sbatch(Configuration.OPEN_MPI_BINDINGS, "rank-per-node.sbatch",
        List.of("--nodes=3", "--ntasks-per-node=1", "--cpus-per-task=2"), "", 120,
        Programs.ThreadsPerRank.class.getName());
    assertEquals("COMPLETED", job.state(), job.toString());
    assertTrue(job.output().contains("each of 2 worker ranks ran 2 tasks at once on threads [1@node2, 2@node3]"),
        job.toString());
    cluster.expectNothingLeft("after the batch job");
  }

  /** SLURM signals the tasks on every node at the time limit; the master's summary still comes. */
  @Test
  @Timeout(400)
  void aSeveralNodeJobAtItsTimeLimitEndsThroughTheSignalPathWithASummary() throws Exception {
    SlurmCluster.Job job = slurm.sbatch(Configuration.OPEN_MPI_BINDINGS, "several-nodes.sbatch",
        List.of("--nodes=3", "--ntasks-per-node=1", "--time=1"), "", 300, Programs.BusyUntilSignalled.class.getName());
    SlurmCluster.assertEndedAtItsTimeLimitWithASummary(job);
    cluster.expectNothingLeft("after the batch job");
  }
}
