package org.jmpipool.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Jobs on a real single-node SLURM cluster, started for these tests by
 * {@code src/test/slurm/single-node-cluster.sh} and stopped by the process ids it recorded. The
 * batch scripts are the templates users copy ({@code packaging/slurm}). Jobs run on each MPI
 * configuration: {@code srun} starts Open MPI's ranks through PMIx and MPICH's through PMI-2. Skipped, saying why, when
 * the cluster cannot be started (not root, packages missing), unless
 * {@code -Djmpipool.slurm.require=true} (set by the test command as root) makes that a failure.
 */
@Timeout(300)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SlurmIT {

  private static final Path CLUSTER_SCRIPT = Path.of("src/test/slurm/single-node-cluster.sh").toAbsolutePath();
  private static final Path TEMPLATES = Jobs.HOME.resolve("packaging/slurm");
  private static final Pattern STATE = Pattern.compile("JobState=(\\S+)");
  private static final Pattern EXIT_CODE = Pattern.compile(" ExitCode=(\\d+):(\\d+)");

  private Path directory;
  private String slurmConf;

  @BeforeAll
  void startCluster() throws Exception {
    directory = Files.createTempDirectory("jmpipool-slurm");
    Script.Outcome started = run(List.of(CLUSTER_SCRIPT.toString(), "start", directory.toString()), Map.of(), 60);
    if (started.status() != 0) {
      String reason = "SLURM tests skipped: cannot start a single-node cluster: " + started.err().strip();
      if (Boolean.getBoolean("jmpipool.slurm.require")) {
        fail(reason);
      }
      Assumptions.abort(reason);
    }
    slurmConf = started.out().strip();
  }

  @AfterAll
  void stopCluster() throws Exception {
    if (directory != null) {
      Script.Outcome stopped = run(List.of(CLUSTER_SCRIPT.toString(), "stop", directory.toString()), Map.of(), 60);
      assertEquals(0, stopped.status(), "stopping the cluster: " + stopped.err());
    }
  }

  private Script.Outcome run(List<String> command, Map<String, String> environment, long seconds) throws Exception {
    Map<String, String> withConf = new HashMap<>(environment);
    if (slurmConf != null) {
      withConf.put("SLURM_CONF", slurmConf);
    }
    return Script.run(command, withConf, seconds);
  }

  /** A batch job's end as SLURM reports it, and what it printed. */
  private record Job(String state, int exitCode, int signal, String output) {
    @Override
    public String toString() {
      return "JobState=" + state + " ExitCode=" + exitCode + ":" + signal + "\n--- output\n" + output;
    }
  }

  /**
   * Submits a template with the program and its arguments, waits for the job to end, and checks
   * that none of its JVMs is left.
   */
  private Job sbatch(Configuration configuration, String template, List<String> sbatchOptions, String launcherOptions,
      long seconds, String... program) throws Exception {
    configuration.assumeAvailable();
    String marker = "-Djmpipool.it.marker=" + UUID.randomUUID();
    Map<String, String> environment = new LinkedHashMap<>(configuration.environment());
    environment.put("JMPIPOOL_HOME", Jobs.HOME.toString());
    environment.put("APP_CLASSPATH", Path.of(Jobs.TEST_CLASSES).toAbsolutePath().toString());
    environment.put("JMPIPOOL_OPTIONS", "-J" + marker + " " + String.join(" ", configuration.launcherOptions())
        + " " + launcherOptions);
    environment.put("OMPI_ALLOW_RUN_AS_ROOT", "1");
    environment.put("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
    List<String> command = new ArrayList<>(List.of("sbatch", "--parsable", "--chdir=" + directory,
        "--output=" + directory.resolve("job-%j.out")));
    command.addAll(sbatchOptions);
    command.add(TEMPLATES.resolve(template).toString());
    command.addAll(List.of(program));
    Script.Outcome submitted = run(command, environment, 30);
    assertEquals(0, submitted.status(), "sbatch: " + submitted.err());
    String id = submitted.out().strip().split(";")[0];
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (true) {
      String line = run(List.of("scontrol", "show", "job", "-o", id), Map.of(), 30).out();
      Matcher state = STATE.matcher(line);
      if (state.find() && List.of("COMPLETED", "FAILED", "TIMEOUT", "CANCELLED", "NODE_FAIL", "OUT_OF_MEMORY")
          .contains(state.group(1))) {
        Matcher exit = EXIT_CODE.matcher(line);
        assertTrue(exit.find(), line);
        Path output = directory.resolve("job-" + id + ".out");
        Job job = new Job(state.group(1), Integer.parseInt(exit.group(1)), Integer.parseInt(exit.group(2)),
            Files.exists(output) ? Files.readString(output, StandardCharsets.UTF_8) : "");
        assertEquals(List.of(), Jobs.waitForMarkedProcessesToEnd(marker), "JVMs of job " + id + " left behind");
        return job;
      }
      if (System.nanoTime() > deadline) {
        run(List.of("scancel", id), Map.of(), 30);
        fail("job " + id + " did not end within " + seconds + " s: " + line);
      }
      Thread.sleep(250);
    }
  }

  @ParameterizedTest
  @EnumSource(Configuration.class)
  void aBatchJobRunsItsRanksThroughSrun(Configuration configuration) throws Exception {
    Job job = sbatch(configuration, "one-node.sbatch", List.of("--ntasks=3"), "--verbose", 120,
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
    Job job = sbatch(Configuration.OPEN_MPI_BINDINGS, "one-node.sbatch", List.of("--ntasks=4"),
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
    Job job = sbatch(configuration, "one-node.sbatch", List.of("--ntasks=2"), "", 120,
        Programs.ExitingMain.class.getName());
    assertEquals("FAILED", job.state(), job.toString());
    assertEquals(7, job.exitCode(), job.toString());
  }

  /**
   * At the time limit SLURM signals every task with SIGTERM, and kills them KillWait later: the
   * job ends through the signal path, with its summary, before that.
   */
  @ParameterizedTest
  @EnumSource(value = Configuration.class, names = {"OPEN_MPI_BINDINGS", "MPICH_FFM"})
  @Timeout(400)
  void aJobAtItsTimeLimitEndsThroughTheSignalPathWithASummary(Configuration configuration) throws Exception {
    Job job = sbatch(configuration, "one-node.sbatch", List.of("--ntasks=3", "--time=1"), "", 300,
        Programs.BusyUntilSignalled.class.getName());
    assertEquals("TIMEOUT", job.state(), job.toString());
    assertTrue(job.output().contains("submitted 42 tasks"), job.toString());
    assertTrue(job.output().contains("jmpipool: SIGTERM received"), job.toString());
    assertTrue(job.output().matches("(?s).*jmpipool: SIGTERM summary: \\d+ tasks done, 2 running when it came"
        + " \\(\\d finished in time, \\d interrupted\\), \\d+ never started.*"), job.toString());
    assertTrue(!job.output().contains("unexpectedly"), job.toString());
  }

  @Test
  void oneRankPerNodeRunsTasksOnThreads() throws Exception {
    Job job = sbatch(Configuration.OPEN_MPI_BINDINGS, "rank-per-node.sbatch", List.of("--nodes=1", "--ntasks=2", "--ntasks-per-node=2",
        "--cpus-per-task=2"), "", 120, Programs.ThreadsPerRank.class.getName());
    assertEquals("COMPLETED", job.state(), job.toString());
    assertTrue(job.output().contains("1 worker rank ran 2 tasks at once on threads"), job.toString());
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
    Script.Outcome run = run(command, configuration.environment(), 120);
    assertEquals(0, run.status(), run.out() + run.err());
    assertTrue(run.err().contains("srun --mpi=" + pmi(configuration)), run.err());
    assertTrue(run.out().contains("on 2 workers, backend MPI, rank 0 of 3"), run.out() + run.err());
    assertEquals(List.of(), Jobs.waitForMarkedProcessesToEnd(marker));
  }
}
