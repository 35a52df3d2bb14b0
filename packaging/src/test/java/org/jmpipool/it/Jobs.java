package org.jmpipool.it;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.IntPredicate;
import java.util.stream.Collectors;

/**
 * Runs {@code bin/jmpipool} as a user would, with a deadline, and makes sure that no process of
 * the job outlives it: every rank carries a unique marker on its command line, and any process
 * still carrying it after the launcher exits is killed and reported.
 */
final class Jobs {

  static final Path HOME = Path.of(System.getProperty("jmpipool.home", "..")).toAbsolutePath().normalize();
  static final String TEST_CLASSES = System.getProperty("jmpipool.test.classes", "target/test-classes");
  private static final Duration DEADLINE = Duration.ofSeconds(90);

  private Jobs() {
  }

  /** What a run printed and how it ended. */
  record Result(int status, String out, String err, Duration elapsed) {
    String all() {
      return out + err;
    }

    @Override
    public String toString() {
      return "exit " + status + " after " + elapsed.toMillis() + " ms\n--- stdout\n" + out + "\n--- stderr\n" + err;
    }
  }

  /** Runs a test program of this module on {@code ranks} ranks. */
  static Result program(int ranks, Class<?> program, String... args) {
    return program(Configuration.OPEN_MPI_BINDINGS, ranks, program, args);
  }

  /** Runs a test program of this module on {@code ranks} ranks of a configuration. */
  static Result program(Configuration configuration, int ranks, Class<?> program, String... args) {
    List<String> command = new ArrayList<>(List.of("-n", Integer.toString(ranks), "-cp", TEST_CLASSES, program.getName()));
    command.addAll(List.of(args));
    return launch(configuration, Map.of(), command);
  }

  /** Runs bin/jmpipool for a configuration (its options first), with extra environment. */
  static Result launch(Configuration configuration, Map<String, String> environment, List<String> arguments) {
    return launchThrough(List.of(), configuration, environment, arguments);
  }

  /** Runs bin/jmpipool with these arguments (after the marker option) and extra environment. */
  static Result launch(Map<String, String> environment, List<String> arguments) {
    return launch(environment, arguments, DEADLINE);
  }

  /**
   * Runs bin/jmpipool with these arguments and extra environment, failing the test if the job
   * has not ended by the deadline (for jobs that move GiBs, which this machine's first touch of
   * fresh memory, about 0.3 GB/s, makes slow).
   */
  static Result launch(Map<String, String> environment, List<String> arguments, Duration deadline) {
    return launch(List.of(), environment, arguments, deadline, (out, mark) -> { });
  }

  /**
   * Runs bin/jmpipool for a configuration (its options first), with extra environment, through a
   * command prefix: on a node of a cluster, say.
   */
  static Result launchThrough(List<String> prefix, Configuration configuration, Map<String, String> environment,
      List<String> arguments) {
    return launchThrough(prefix, configuration, environment, arguments, (out, mark) -> { });
  }

  /** Runs bin/jmpipool for a configuration through a command prefix, acting on the job while it runs. */
  static Result launchThrough(List<String> prefix, Configuration configuration, Map<String, String> environment,
      List<String> arguments, WhileRunning whileRunning) {
    configuration.assumeAvailable();
    Map<String, String> merged = new HashMap<>(configuration.environment());
    merged.putAll(environment);
    List<String> command = new ArrayList<>(configuration.launcherOptions());
    command.addAll(arguments);
    return launch(prefix, merged, command, DEADLINE, whileRunning);
  }

  private static Result launch(List<String> prefix, Map<String, String> environment, List<String> arguments,
      Duration deadline, WhileRunning whileRunning) {
    String marker = "-Djmpipool.it.marker=" + UUID.randomUUID();
    List<String> command = new ArrayList<>(prefix);
    command.addAll(List.of(HOME.resolve("bin/jmpipool").toString(), "-J" + marker));
    command.addAll(arguments);
    return run(command, marker, environment, deadline, whileRunning);
  }

  /**
   * Runs a test program of this module with plain {@code java}, not the launcher, on this test
   * JVM's classpath; spawned workers inherit the marker, so none may outlive the program.
   */
  static Result java(List<String> jvmOptions, Class<?> program, String... args) {
    return java(Map.of(), jvmOptions, program, args);
  }

  /** Runs a test program with plain {@code java}, in an environment changed as given. */
  static Result java(Map<String, String> environment, List<String> jvmOptions, Class<?> program, String... args) {
    return java(Path.of(System.getProperty("java.home"), "bin", "java"), environment, jvmOptions, program, args);
  }

  /**
   * Runs a test program with plain {@code java} of a configuration: its Java, and what an
   * embedding JVM needs to reach its MPI.
   */
  static Result java(Configuration configuration, Class<?> program, String... args) {
    configuration.assumeAvailable();
    return java(configuration.java(), configuration.embeddedEnvironment(), configuration.embeddedJvmOptions(), program,
        args);
  }

  /**
   * Runs a test program with plain {@code java} of a configuration, in an environment changed as
   * given, through a command prefix (on a node of a cluster, say), acting on it while it runs.
   */
  static Result javaThrough(List<String> prefix, Configuration configuration, Map<String, String> environment,
      WhileRunning whileRunning, Class<?> program, String... args) {
    configuration.assumeAvailable();
    Map<String, String> merged = new HashMap<>(configuration.embeddedEnvironment());
    merged.putAll(environment);
    return java(prefix, configuration.java(), merged, configuration.embeddedJvmOptions(), whileRunning, program, args);
  }

  /**
   * Runs a test program with plain {@code java} of a configuration, in an environment changed as
   * given, on this test JVM's classpath with its jars first, as a packaged application's is
   * (jmpipool's jars lead it, the test classes follow).
   */
  static Result javaJarsFirst(Configuration configuration, Map<String, String> environment, Class<?> program,
      String... args) {
    configuration.assumeAvailable();
    Map<String, String> merged = new HashMap<>(configuration.embeddedEnvironment());
    merged.putAll(environment);
    Map<Boolean, List<String>> byKind = Arrays.stream(testClasspath().split(File.pathSeparator))
        .collect(Collectors.partitioningBy(entry -> entry.endsWith(".jar")));
    List<String> jarsFirst = new ArrayList<>(byKind.get(true));
    jarsFirst.addAll(byKind.get(false));
    return java(List.of(), configuration.java(), merged, configuration.embeddedJvmOptions(),
        String.join(File.pathSeparator, jarsFirst), (out, mark) -> { }, program, args);
  }

  private static Result java(Path java, Map<String, String> environment, List<String> jvmOptions, Class<?> program,
      String... args) {
    return java(List.of(), java, environment, jvmOptions, (out, mark) -> { }, program, args);
  }

  private static Result java(List<String> prefix, Path java, Map<String, String> environment, List<String> jvmOptions,
      WhileRunning whileRunning, Class<?> program, String... args) {
    return java(prefix, java, environment, jvmOptions, testClasspath(), whileRunning, program, args);
  }

  private static Result java(List<String> prefix, Path java, Map<String, String> environment, List<String> jvmOptions,
      String classpath, WhileRunning whileRunning, Class<?> program, String... args) {
    String marker = "-Djmpipool.it.marker=" + UUID.randomUUID();
    List<String> command = new ArrayList<>(prefix);
    command.addAll(List.of(java.toString(), marker));
    command.addAll(jvmOptions);
    command.addAll(List.of("-cp", classpath, program.getName()));
    command.addAll(List.of(args));
    return run(command, marker, environment, DEADLINE, whileRunning);
  }

  private static String testClasspath() {
    return System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
  }

  /** Something a test does to a job while it runs. */
  @FunctionalInterface
  interface WhileRunning {
    /**
     * Acts on the running job.
     *
     * @param out the file the job's standard output goes to
     * @param marker the marker on every rank's command line
     */
    void act(Path out, String marker) throws Exception;
  }

  /**
   * Runs a test program on {@code ranks} ranks and, once it printed {@code line}, sends a signal
   * to every rank at once, as a scheduler ending a job step does (mpirun itself is left alone:
   * signalled, it kills the ranks a second later).
   */
  static Result programSignalled(Configuration configuration, int ranks, String signal, String line, Class<?> program) {
    return programSignalled(configuration, ranks, List.of(signal), rank -> true, line, program);
  }

  /**
   * Runs a test program on {@code ranks} ranks and, once it printed {@code line}, sends signals,
   * one after the other, to the ranks chosen by their rank number.
   */
  static Result programSignalled(Configuration configuration, int ranks, List<String> signals,
      IntPredicate signalledRanks, String line, Class<?> program) {
    configuration.assumeAvailable();
    String marker = "-Djmpipool.it.marker=" + UUID.randomUUID();
    List<String> command = new ArrayList<>(List.of(HOME.resolve("bin/jmpipool").toString(), "-J" + marker));
    command.addAll(configuration.launcherOptions());
    command.addAll(List.of("-n", Integer.toString(ranks), "-cp", TEST_CLASSES, program.getName()));
    return run(command, marker, configuration.environment(), DEADLINE, (out, mark) -> {
      awaitOutput(out, mark, line);
      // The ranks are the JVMs carrying the marker (mpirun's own command line carries it too).
      List<ProcessHandle> chosen = ProcessHandle.allProcesses()
          .filter(p -> p.info().command().map(c -> c.endsWith("/java")).orElse(false))
          .filter(p -> p.info().commandLine().map(c -> c.contains(mark)).orElse(false))
          .filter(p -> signalledRanks.test(rankOf(p)))
          .toList();
      if (chosen.isEmpty()) {
        fail("no rank of the job to signal");
      }
      for (String signal : signals) {
        for (ProcessHandle rank : chosen) {
          new ProcessBuilder("kill", "-" + signal, Long.toString(rank.pid())).inheritIO().start().waitFor();
        }
      }
    });
  }

  /**
   * Waits until a running job's standard output holds a line, failing once the job (its processes
   * carrying the marker) has ended without it, or after a minute.
   */
  static void awaitOutput(Path out, String marker, String line) throws IOException, InterruptedException {
    long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    for (int pass = 1; !Files.readString(out, StandardCharsets.UTF_8).contains(line); pass++) {
      if (System.nanoTime() > giveUp) {
        fail("the job did not print '" + line + "' within 60 s");
      }
      if (pass % 20 == 0 && ProcessHandle.allProcesses()
          .noneMatch(p -> p.info().commandLine().map(command -> command.contains(marker)).orElse(false))
          && !Files.readString(out, StandardCharsets.UTF_8).contains(line)) {
        fail("the job ended without printing '" + line + "'");
      }
      Thread.sleep(50);
    }
  }

  /** The MPI rank of a process of a job, from the environment its launcher gave it. */
  static int rankOf(ProcessHandle process) {
    try {
      String environment = new String(Files.readAllBytes(Path.of("/proc", Long.toString(process.pid()), "environ")),
          StandardCharsets.UTF_8);
      for (String variable : environment.split("\0")) {
        for (String name : List.of("OMPI_COMM_WORLD_RANK=", "PMIX_RANK=", "PMI_RANK=")) {
          if (variable.startsWith(name)) {
            return Integer.parseInt(variable.substring(name.length()));
          }
        }
      }
    } catch (IOException | NumberFormatException e) {
      throw new IllegalStateException("cannot read the rank of process " + process.pid(), e);
    }
    throw new IllegalStateException("process " + process.pid() + " has no MPI rank in its environment");
  }

  private static Result run(List<String> command, String marker, Map<String, String> environment, Duration deadline,
      WhileRunning whileRunning) {
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().put("OMPI_ALLOW_RUN_AS_ROOT", "1");
    builder.environment().put("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
    environment.forEach((name, value) -> {
      if (value == null) {
        builder.environment().remove(name);
      } else {
        builder.environment().put(name, value);
      }
    });
    try {
      Path out = Files.createTempFile("jmpipool-it", ".out");
      Path err = Files.createTempFile("jmpipool-it", ".err");
      builder.redirectOutput(out.toFile()).redirectError(err.toFile());
      long start = System.nanoTime();
      Process process = builder.start();
      Throwable actionFailure = null;
      try {
        whileRunning.act(out, marker);
      } catch (Exception | AssertionError e) {
        actionFailure = e;
      }
      boolean finished = actionFailure == null && process.waitFor(deadline.toSeconds(), TimeUnit.SECONDS);
      Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
      if (!finished) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
      List<ProcessHandle> leftovers = waitForMarkedProcessesToEnd(marker);
      Result result = new Result(finished ? process.exitValue() : -1, Files.readString(out, StandardCharsets.UTF_8),
          Files.readString(err, StandardCharsets.UTF_8), elapsed);
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
      if (actionFailure != null) {
        // What the job said up to then is what explains a test's action failing on it; the job is ended.
        throw new AssertionError(actionFailure.getMessage() + "\n" + result, actionFailure);
      }
      if (!finished) {
        fail("the job did not end within " + deadline.toSeconds() + " s\n" + result);
      }
      if (!leftovers.isEmpty()) {
        fail("processes of the job outlived it: " + leftovers + "\n" + result);
      }
      return result;
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + command, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  static List<ProcessHandle> waitForMarkedProcessesToEnd(String marker) throws InterruptedException {
    long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    List<ProcessHandle> marked;
    do {
      marked = ProcessHandle.allProcesses()
          .filter(p -> p.info().commandLine().map(line -> line.contains(marker)).orElse(false))
          .toList();
      if (marked.isEmpty()) {
        return marked;
      }
      Thread.sleep(100);
    } while (System.nanoTime() < giveUp);
    marked.forEach(ProcessHandle::destroyForcibly);
    return marked;
  }
}
