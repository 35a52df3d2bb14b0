package org.jmpipool.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;

/**
 * A real SLURM cluster the tests submit batch jobs to (one node on this machine, or one slurmd on
 * each node of a {@link NamespaceCluster}), started by a script that prints its SLURM_CONF: where
 * its configuration is, the directory jobs run and write in, and the words that run a client
 * command (sbatch, scontrol) where the controller is reachable. The batch scripts are the
 * templates users copy ({@code packaging/slurm}).
 */
final class SlurmCluster {

  private static final Path TEMPLATES = Jobs.HOME.resolve("packaging/slurm");
  private static final Pattern STATE = Pattern.compile("JobState=(\\S+)");
  private static final Pattern EXIT_CODE = Pattern.compile(" ExitCode=(\\d+):(\\d+)");
  private static final List<String> ENDED = List.of("COMPLETED", "FAILED", "TIMEOUT", "CANCELLED", "NODE_FAIL",
      "OUT_OF_MEMORY");

  private final String conf;
  private final Path directory;
  private final List<String> prefix;

  private SlurmCluster(String conf, Path directory, List<String> prefix) {
    this.conf = conf;
    this.directory = directory;
    this.prefix = prefix;
  }

  /**
   * Starts a cluster with a script that prints its SLURM_CONF. When it cannot start (not root,
   * packages missing), the test is skipped saying why, unless {@code jmpipool.slurm.require}
   * (set by the test command as root) makes that a failure.
   *
   * @param start the script and its arguments
   * @param directory where jobs run and write their output
   * @param prefix the words that run a client command where the controller is reachable
   */
  static SlurmCluster start(List<String> start, Path directory, List<String> prefix) throws Exception {
    Files.createDirectories(directory);
    Script.Outcome started = Script.run(start, 60);
    if (started.status() != 0) {
      String reason = "SLURM tests skipped: cannot start a cluster: " + started.err().strip();
      if (Boolean.getBoolean("jmpipool.slurm.require")) {
        fail(reason);
      }
      Assumptions.abort(reason);
    }
    return new SlurmCluster(started.out().strip(), directory, prefix);
  }

  /** Runs a client command with the cluster's configuration. */
  Script.Outcome run(List<String> command, Map<String, String> environment, long seconds) throws Exception {
    Map<String, String> withConf = new HashMap<>(environment);
    withConf.put("SLURM_CONF", conf);
    List<String> prefixed = new ArrayList<>(prefix);
    prefixed.addAll(command);
    return Script.run(prefixed, withConf, seconds);
  }

  /** A batch job's end as SLURM reports it, and what it printed. */
  record Job(String state, int exitCode, int signal, String output) {
    @Override
    public String toString() {
      return "JobState=" + state + " ExitCode=" + exitCode + ":" + signal + "\n--- output\n" + output;
    }
  }

  /**
   * Submits a template with the program and its arguments, waits for the job to end, and checks
   * that none of its JVMs is left.
   */
  Job sbatch(Configuration configuration, String template, List<String> sbatchOptions, String launcherOptions,
      long seconds, String... program) throws Exception {
    return await(submit(configuration, template, sbatchOptions, launcherOptions, program), seconds);
  }

  /** A job submitted: its id, and the marker on its JVMs' command lines. */
  record Submitted(String id, String marker) {
  }

  /** Submits a template with the program and its arguments. */
  Submitted submit(Configuration configuration, String template, List<String> sbatchOptions, String launcherOptions,
      String... program) throws Exception {
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
    return new Submitted(submitted.out().strip().split(";")[0], marker);
  }

  /** Waits for a submitted job to end, and checks that none of its JVMs is left. */
  Job await(Submitted submitted, long seconds) throws Exception {
    String id = submitted.id();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (true) {
      String line = run(List.of("scontrol", "show", "job", "-o", id), Map.of(), 30).out();
      Matcher state = STATE.matcher(line);
      if (state.find() && ENDED.contains(state.group(1))) {
        Matcher exit = EXIT_CODE.matcher(line);
        assertTrue(exit.find(), line);
        Path output = directory.resolve("job-" + id + ".out");
        Job job = new Job(state.group(1), Integer.parseInt(exit.group(1)), Integer.parseInt(exit.group(2)),
            Files.exists(output) ? Files.readString(output, StandardCharsets.UTF_8) : "");
        assertEquals(List.of(), Jobs.waitForMarkedProcessesToEnd(submitted.marker()), "JVMs of job " + id
            + " left behind");
        return job;
      }
      if (System.nanoTime() > deadline) {
        run(List.of("scancel", id), Map.of(), 30);
        fail("job " + id + " did not end within " + seconds + " s: " + line);
      }
      Thread.sleep(250);
    }
  }

  /**
   * Checks that a job of {@link Programs.BusyUntilSignalled} on 3 ranks met its time limit and
   * ended through the signal path: SLURM signals every task with SIGTERM, and kills them KillWait
   * later; the job gives its summary before that.
   */
  static void assertEndedAtItsTimeLimitWithASummary(Job job) {
    assertEquals("TIMEOUT", job.state(), job.toString());
    assertTrue(job.output().contains("submitted 42 tasks"), job.toString());
    assertTrue(job.output().contains("jmpipool: SIGTERM received"), job.toString());
    assertTrue(job.output().matches("(?s).*jmpipool: SIGTERM summary: \\d+ tasks done, 2 running when it came"
        + " \\(\\d finished in time, \\d interrupted\\), \\d+ never started.*"), job.toString());
    assertFalse(job.output().contains("unexpectedly"), job.toString());
  }
}
