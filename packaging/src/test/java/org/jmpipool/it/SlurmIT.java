package org.jmpipool.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Jobs on a real single-node SLURM cluster, started for these tests by
 * {@code src/test/slurm/single-node-cluster.sh} and stopped by the process ids it recorded. Jobs
 * run on each MPI configuration: {@code srun} starts Open MPI's ranks through PMIx and MPICH's
 * through PMI-2. Skipped, saying why, when the cluster cannot be started (not root, packages
 * missing), unless {@code -Djmpipool.slurm.require=true} (set by the test command as root) makes
 * that a failure.
 */
@Timeout(300)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SlurmIT {

  private static final Path CLUSTER_SCRIPT = Path.of("src/test/slurm/single-node-cluster.sh").toAbsolutePath();

  private Path directory;
  private SlurmCluster slurm;

  @BeforeAll
  void startCluster() throws Exception {
    directory = Files.createTempDirectory("jmpipool-slurm");
    slurm = SlurmCluster.start(List.of(CLUSTER_SCRIPT.toString(), "start", directory.toString()), directory, List.of());
  }

  @AfterAll
  void stopCluster() throws Exception {
    if (directory != null) {
      Script.Outcome stopped = Script.run(List.of(CLUSTER_SCRIPT.toString(), "stop", directory.toString()), 60);
      assertEquals(0, stopped.status(), "stopping the cluster: " + stopped.err());
    }
  }

  @ParameterizedTest
  @EnumSource(Configuration.class)
  void aBatchJobRunsItsRanksThroughSrun(Configuration configuration) throws Exception {
    SlurmCluster.Job job = slurm.sbatch(configuration, "one-node.sbatch", List.of("--ntasks=3"), "--verbose", 120,
        Programs.Embedded.class.getName());
    assertEquals("COMPLETED", job.state(), job.toString());
    assertEquals(0, job.exitCode(), job.toString());
    assertTrue(job.output().contains("launcher srun (auto: inside SLURM job")
        && job.output().contains("srun --mpi=" + pmi(configuration)), job.toString());
    assertTrue(job.output().contains("squares [1, 4, 9, 16, 25] on 2 workers, backend MPI, rank 0 of 3"), job.toString());
  }

  /** The PMI flavour srun starts a family's ranks with. */
  private static String pmi(Configuration configuration) {
    return configuration == Configuration.MPICH_FFM ? "pmi2" : "pmix";
  }

  /** Rank and size come from MPI: 3 ranks under mpirun in an allocation of 4 tasks. */
  @Test
  void aBatchJobRunsItsRanksThroughMpirun() throws Exception {
    SlurmCluster.Job job = slurm.sbatch(Configuration.OPEN_MPI_BINDINGS, "one-node.sbatch", List.of("--ntasks=4"),
        "--launcher mpirun -n 3 --verbose", 120,
        Programs.Embedded.class.getName());
    assertEquals("COMPLETED", job.state(), job.toString());
    assertTrue(job.output().contains("launcher mpirun (--launcher mpirun)") && !job.output().contains("srun --mpi"),
        job.toString());
    assertTrue(job.output().contains("on 2 workers, backend MPI, rank 0 of 3"), job.toString());
  }

  @ParameterizedTest
  @EnumSource(Configuration.class)
  void aFailingProgramMakesTheJobFailWithItsExitCode(Configuration configuration) throws Exception {
    SlurmCluster.Job job = slurm.sbatch(configuration, "one-node.sbatch", List.of("--ntasks=2"), "", 120,
        Programs.ExitingMain.class.getName());
    assertEquals("FAILED", job.state(), job.toString());
    assertEquals(7, job.exitCode(), job.toString());
  }

  /**
   * At the time limit a job ends through the signal path, with its summary: one job of each
   * family at once (a time limit is at least a minute; the cluster's node has room for both).
   */
  @Test
  @Timeout(400)
  void aJobAtItsTimeLimitEndsThroughTheSignalPathWithASummary() throws Exception {
    List<SlurmCluster.Submitted> jobs = new ArrayList<>();
    for (Configuration configuration : List.of(Configuration.OPEN_MPI_BINDINGS, Configuration.MPICH_FFM)) {
      jobs.add(slurm.submit(configuration, "one-node.sbatch", List.of("--ntasks=3", "--time=1"), "",
          Programs.BusyUntilSignalled.class.getName()));
    }
    for (SlurmCluster.Submitted job : jobs) {
      SlurmCluster.assertEndedAtItsTimeLimitWithASummary(slurm.await(job, 300));
    }
  }

  @Test
  void oneRankPerNodeRunsTasksOnThreads() throws Exception {
    SlurmCluster.Job job = slurm.sbatch(Configuration.OPEN_MPI_BINDINGS, "rank-per-node.sbatch", List.of("--nodes=1", "--ntasks=2", "--ntasks-per-node=2",
        "--cpus-per-task=2"), "", 120, Programs.ThreadsPerRank.class.getName());
    assertEquals("COMPLETED", job.state(), job.toString());
    assertTrue(job.output().contains("each of 1 worker ranks ran 2 tasks at once on threads"), job.toString());
  }

  @ParameterizedTest
  @EnumSource(Configuration.class)
  void srunRunsTheRanksInsideSalloc(Configuration configuration) throws Exception {
    configuration.assumeAvailable();
    String marker = "-Djmpipool.it.marker=" + UUID.randomUUID();
    List<String> command = new ArrayList<>(List.of("salloc", "--ntasks=3", Jobs.HOME.resolve("bin/jmpipool").toString(),
        "-J" + marker, "--verbose"));
    command.addAll(configuration.launcherOptions());
    command.addAll(List.of("-cp", Path.of(Jobs.TEST_CLASSES).toAbsolutePath().toString(),
        Programs.Embedded.class.getName()));
    Script.Outcome run = slurm.run(command, configuration.environment(), 120);
    assertEquals(0, run.status(), run.out() + run.err());
    assertTrue(run.err().contains("srun --mpi=" + pmi(configuration)), run.err());
    assertTrue(run.out().contains("on 2 workers, backend MPI, rank 0 of 3"), run.out() + run.err());
    assertEquals(List.of(), Jobs.waitForMarkedProcessesToEnd(marker));
  }
}
