package org.jmpipool.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Launching, arguments, exit statuses and every failure a user can cause, on real MPI jobs. */
@Timeout(120)
class LaunchIT {

  @TempDir
  Path temp;

  @Test
  void argumentsReachTheProgramUnchanged() {
    Jobs.Result result = Jobs.program(2, Programs.EchoArguments.class, "-n", "5", "--", "@file", "two words", "--verbose", "");
    assertEquals(0, result.status(), result.toString());
    assertTrue(result.out().contains("<args>\n-n\n5\n--\n@file\ntwo words\n--verbose\n\n</args>"), result.toString());
  }

  /**
   * Open MPI passes the ranks' whole command line to each rank in one environment variable, which
   * Linux refuses over 128 KiB: longer argument lists reach the program through a file.
   */
  @Test
  void argumentsTooLongForMpisCommandLineReachTheProgramUnchanged() {
    String[] args = new String[3000];
    for (int i = 0; i < args.length; i++) {
      args[i] = i + ":" + "x".repeat(60) + (i % 7 == 0 ? " with spaces" : "") + (i % 11 == 0 ? "" : "'\"$HOME");
    }
    Jobs.Result expected = Jobs.java(List.of(), Programs.DigestArguments.class, args);
    Jobs.Result launched = Jobs.program(2, Programs.DigestArguments.class, args);
    assertEquals(0, launched.status(), launched.toString());
    assertTrue(expected.out().startsWith("3000 arguments, digest "), expected.toString());
    assertEquals(expected.out(), launched.out(), launched.toString());
  }

  /** Under the C locale, arguments the locale cannot hold reach the program as plain java shows them. */
  @Test
  void nonAsciiArgumentsUnderTheCLocaleArriveAsPlainJavaShowsThem() {
    String[] args = {"grüße", "日本語", "plain"};
    Jobs.Result expected = Jobs.java(Map.of("LC_ALL", "C"), List.of(), Programs.EchoArguments.class, args);
    List<String> command = new java.util.ArrayList<>(List.of("-n", "2", "-cp", Jobs.TEST_CLASSES,
        Programs.EchoArguments.class.getName()));
    command.addAll(List.of(args));
    Jobs.Result launched = Jobs.launch(Map.of("LC_ALL", "C"), command);
    assertEquals(0, launched.status(), launched.toString());
    assertTrue(expected.out().contains("<args>"), expected.toString());
    assertEquals(expected.out(), launched.out(), launched.toString());
  }

  @Test
  void aMainThatReturnsAValueIsRefusedAsJavaRefusesIt() {
    Jobs.Result result = Jobs.program(2, Programs.IntMain.class);
    assertEquals(2, result.status(), result.toString());
    assertTrue(result.err().contains("has no public static void main(String[])"), result.toString());
  }

  @Test
  void aMainThatThrowsEndsTheJobWithStatusOneAndItsStackTrace() {
    Jobs.Result result = Jobs.program(3, Programs.ThrowingMain.class);
    assertEquals(1, result.status(), result.toString());
    assertTrue(result.err().contains("jmpipool: " + Programs.ThrowingMain.class.getName() + " failed; ending the job"), result.toString());
    assertTrue(result.err().contains("java.lang.IllegalStateException: boom from main"), result.toString());
    assertTrue(result.err().contains("at " + Programs.ThrowingMain.class.getName() + ".main"), result.toString());
  }

  @Test
  void systemExitInMainIsTheJobsExitStatus() {
    Jobs.Result result = Jobs.program(3, Programs.ExitingMain.class);
    assertEquals(7, result.status(), result.toString());
  }

  /**
   * The MPI's launcher ends the job and names the dead rank (Open MPI) or process (Hydra). The
   * master's list of the tasks each worker held is printed as soon as mpirun's SIGTERM arrives,
   * but mpirun, busy killing the job, sometimes drops that last output (seen about once in 15
   * runs), and Hydra kills the master outright: when it comes, it must be complete.
   */
  @ParameterizedTest
  @EnumSource(Configuration.class)
  void aWorkerKilledBySignalEndsTheJobWithinSecondsNamingTheRank(Configuration configuration) {
    Jobs.Result result = Jobs.program(configuration, 3, Programs.KilledWorker.class);
    assertNotEquals(0, result.status(), result.toString());
    assertTrue(result.elapsed().toSeconds() < 30, result.toString());
    // The MPI's launcher ends the job and says so: Open MPI names the rank, Hydra the process.
    assertTrue(result.all().matches(configuration == Configuration.MPICH_FFM
        ? "(?s).*BAD TERMINATION OF ONE OF YOUR APPLICATION PROCESSES.*Killed \\(signal 9\\).*"
        : "(?s).*process rank [12] .*exited on signal 9.*"), result.toString());
    if (result.all().contains("tasks held by workers:")) {
      assertTrue(result.all().matches("(?s).*tasks held by workers: rank [12]: tasks \\[\\d+\\]; rank [12]: tasks \\[\\d+\\].*"),
          result.toString());
    }
  }

  @ParameterizedTest
  @EnumSource(Configuration.class)
  void aTaskThatCallsSystemExitEndsTheJobNamingItsWorker(Configuration configuration) {
    Jobs.Result result = Jobs.program(configuration, 3, Programs.ExitingWorker.class);
    assertNotEquals(0, result.status(), result.toString());
    assertTrue(result.all().matches("(?s).*worker rank [12] is exiting \\(System.exit was called, by a task\\) while holding tasks \\[1\\].*"),
        result.toString());
  }

  /**
   * The first job makes the ranks' class-data archive, the next ones start from it (their class
   * loading says so: on java.lang.foreign, the JDK's classes for calling the library too, which the
   * training makes without starting MPI), and a damaged archive is ignored without a word.
   */
  @ParameterizedTest
  @EnumSource(Configuration.class)
  void ranksStartFromTheClassDataArchiveTheFirstJobMadeAndIgnoreADamagedOne(Configuration configuration)
      throws IOException {
    Path archives = Files.createDirectories(temp.resolve("cds"));
    Path loading = Files.createDirectories(temp.resolve("loading"));
    Map<String, String> environment = Map.of("JMPIPOOL_CDS_DIR", archives.toString());
    List<String> job = List.of("-n", "2", "org.jmpipool.bench.TrivialJob");
    Jobs.Result first = Jobs.launch(configuration, environment, job);
    assertEquals(0, first.status(), first.toString());
    List<Path> made;
    try (var files = Files.list(archives)) {
      made = files.filter(file -> file.getFileName().toString().matches("rank-\\w+\\.jsa")).toList();
    }
    assertEquals(1, made.size(), "one archive for the ranks: " + made);
    List<String> logged = new java.util.ArrayList<>(List.of("-J-Xlog:class+load=info:file=" + loading + "/%p.log"));
    logged.addAll(job);
    Jobs.Result second = Jobs.launch(configuration, environment, logged);
    assertEquals(0, second.status(), second.toString());
    try (var logs = Files.list(loading)) {
      List<Path> ranks = logs.toList();
      assertEquals(2, ranks.size(), ranks.toString());
      for (Path rank : ranks) {
        String loaded = Files.readString(rank);
        assertTrue(loaded.contains("org.jmpipool.internal.Bootstrap source: shared objects file (top)"),
            "rank " + rank + " loaded the bootstrap from the archive");
        if (configuration.foreign()) {
          assertTrue(loaded.contains("jdk.internal.foreign.abi.DowncallLinker source: shared objects file (top)"),
              "rank " + rank + " loaded the linker of native calls from the archive");
        }
      }
    }
    Files.write(made.get(0), new byte[4096]);
    Jobs.Result damaged = Jobs.launch(configuration, environment, job);
    assertEquals(0, damaged.status(), damaged.toString());
    assertEquals("", damaged.err().strip(), damaged.toString());
  }

  @Test
  void anUnknownClassIsOneLineAndStatusTwo() {
    Jobs.Result result = Jobs.launch(Map.of(), List.of("-n", "2", "com.example.Missing"));
    assertEquals(2, result.status(), result.toString());
    assertEquals(1, result.err().strip().lines().count(), result.toString());
    assertTrue(result.err().startsWith("jmpipool: class com.example.Missing not found on the classpath"), result.toString());
  }

  @Test
  void aClassWithoutMainIsOneLineAndStatusTwo() {
    Jobs.Result result = Jobs.launch(Map.of(), List.of("-n", "2", "-cp", Jobs.TEST_CLASSES, Jobs.class.getName()));
    assertEquals(2, result.status(), result.toString());
    assertTrue(result.err().contains("has no public static void main(String[])"), result.toString());
  }

  @Test
  void missingMpirunIsOneLineAndStatusThree() throws IOException {
    Path bin = Files.createDirectory(temp.resolve("bin"));
    for (String tool : new String[] {"dirname", "mktemp", "cat", "rm"}) {
      Files.createSymbolicLink(bin.resolve(tool), Path.of("/usr/bin", tool));
    }
    Map<String, String> environment = new HashMap<>();
    environment.put("PATH", bin.toString());
    environment.put("JMPIPOOL_JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
    Jobs.Result result = Jobs.launch(environment, List.of("-n", "2", "-cp", Jobs.TEST_CLASSES, Programs.Nothing.class.getName()));
    assertEquals(3, result.status(), result.toString());
    assertTrue(result.err().startsWith("jmpipool: no launcher of Open MPI (mpirun) found on PATH"), result.toString());
  }

  @Test
  void missingJavaIsOneLineAndStatusThree() {
    Jobs.Result result = Jobs.launch(Map.of("JMPIPOOL_JAVA", temp.resolve("no-such-java").toString()),
        List.of("-n", "2", "-cp", Jobs.TEST_CLASSES, Programs.Nothing.class.getName()));
    assertEquals(3, result.status(), result.toString());
    assertEquals(1, result.err().strip().lines().count(), result.toString());
    assertTrue(result.err().startsWith("jmpipool: no Java found"), result.toString());
  }

  @Test
  void bindingsOfAnotherOpenMpiVersionAreRefused() throws IOException {
    Path jar = temp.resolve("mpi.jar");
    Manifest manifest = new Manifest();
    manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    manifest.getMainAttributes().put(Attributes.Name.IMPLEMENTATION_VERSION, "9.9.9");
    try (OutputStream out = Files.newOutputStream(jar); JarOutputStream unused = new JarOutputStream(out, manifest)) {
      // An empty jar with only the manifest.
    }
    Jobs.Result result = Jobs.launch(Map.of("JMPIPOOL_MPI_JAR", jar.toString()),
        List.of("-n", "2", "-cp", Jobs.TEST_CLASSES, Programs.Nothing.class.getName()));
    assertEquals(3, result.status(), result.toString());
    assertTrue(result.err().contains("are built for Open MPI 9.9.9"), result.toString());
  }

  @Test
  void rootMustBeAllowedExplicitly() {
    assumeTrue("root".equals(System.getProperty("user.name")), "only meaningful when the tests run as root");
    Map<String, String> environment = new HashMap<>();
    environment.put("OMPI_ALLOW_RUN_AS_ROOT", null);
    environment.put("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", null);
    List<String> args = List.of("-n", "2", "-cp", Jobs.TEST_CLASSES, Programs.Nothing.class.getName());
    Jobs.Result refused = Jobs.launch(environment, args);
    assertEquals(2, refused.status(), refused.toString());
    assertTrue(refused.err().contains("--allow-run-as-root"), refused.toString());
    Jobs.Result allowed = Jobs.launch(environment, List.of("--allow-run-as-root", "-n", "2", "-cp", Jobs.TEST_CLASSES,
        Programs.Nothing.class.getName()));
    assertEquals(0, allowed.status(), allowed.toString());
    assertTrue(allowed.out().contains("workers 1"), allowed.toString());
  }

  @Test
  void dryRunPrintsTheCommandAndStartsNothing() {
    Jobs.Result result = Jobs.launch(Map.of(), List.of("--dry-run", "-n", "3", "-cp", Jobs.TEST_CLASSES,
        Programs.Nothing.class.getName(), "arg"));
    assertEquals(0, result.status(), result.toString());
    assertTrue(result.out().matches("(?s)env UCX_ERROR_SIGNALS= \\S*mpirun\\S* -n 3 --oversubscribe .*org.jmpipool.internal.Bootstrap"
        + " .*Nothing' arg\\s*"),
        result.toString());
    assertTrue(!result.out().contains("workers"), result.toString());
  }

  @Test
  void verboseLogsAtDebugLevelWithTheRankOnEveryLine() {
    Jobs.Result result = Jobs.launch(Map.of(), List.of("--verbose", "-n", "3", "-cp", Jobs.TEST_CLASSES,
        Programs.Nothing.class.getName()));
    assertEquals(0, result.status(), result.toString());
    assertTrue(result.err().contains("jmpipool: "), "the command is printed: " + result);
    for (int rank = 0; rank < 3; rank++) {
      assertTrue(result.err().contains("[rank " + rank + "] DEBUG"), "rank " + rank + " logs at debug level: " + result);
    }
  }
}
