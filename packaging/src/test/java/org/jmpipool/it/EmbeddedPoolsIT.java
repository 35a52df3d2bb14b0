package org.jmpipool.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.jmpipool.Backend;
import org.jmpipool.BrokenPoolException;
import org.jmpipool.Jmpipool;
import org.jmpipool.MpiPoolExecutor;
import org.jmpipool.PoolStartException;
import org.jmpipool.TaskContext;
import org.jmpipool.internal.transport.MpiInstallation;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Pools embedded in a JVM the launcher did not start: spawned MPI workers, and the default executor. */
@Timeout(120)
class EmbeddedPoolsIT {

  /** No spawned worker may outlive its pool: each carries this JVM's process id. */
  @AfterEach
  void noWorkerOutlivesItsPool() throws InterruptedException {
    String parent = "-Djmpipool.parent.pid=" + ProcessHandle.current().pid();
    long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    List<ProcessHandle> workers;
    do {
      workers = ProcessHandle.allProcesses()
          .filter(p -> p.info().commandLine().map(line -> line.contains(parent)).orElse(false)).toList();
      if (workers.isEmpty()) {
        return;
      }
      Thread.sleep(100);
    } while (System.nanoTime() < giveUp);
    workers.forEach(ProcessHandle::destroyForcibly);
    throw new AssertionError("spawned workers outlived their pool: " + workers);
  }

  @Test
  void spawnedPoolsCanBeCreatedAndClosedRepeatedlyAndTwoAtOnce() throws Exception {
    for (int round = 0; round < 3; round++) {
      try (MpiPoolExecutor pool = Jmpipool.spawn(2)) {
        assertEquals(2, pool.workers());
        assertEquals(List.of(0, 1, 4, 9), pool.map((Integer x) -> x * x, List.of(0, 1, 2, 3)).toList());
      }
    }
    try (MpiPoolExecutor one = Jmpipool.spawn(1); MpiPoolExecutor two = Jmpipool.spawn(2)) {
      CompletableFuture<Integer> a = one.submit(() -> {
        Thread.sleep(300);
        return TaskContext.current().worldSize();
      });
      CompletableFuture<Integer> b = two.submit(() -> {
        Thread.sleep(300);
        return TaskContext.current().worldSize();
      });
      assertEquals(2, a.get());
      assertEquals(3, b.get());
    }
  }

  @Test
  void aWorkerThatDiesBreaksThePoolAndEveryHeldTaskFailsWithinSeconds() throws Exception {
    MpiPoolExecutor pool = Jmpipool.spawn(2);
    CompletableFuture<Integer> dies = pool.submit(() -> {
      Thread.sleep(200);
      Runtime.getRuntime().halt(5);
      return 0;
    });
    CompletableFuture<Integer> waits = pool.submit(() -> Programs.sleep(60_000));
    for (CompletableFuture<Integer> future : List.of(dies, waits)) {
      ExecutionException failure = assertThrows(ExecutionException.class, () -> future.get(20, TimeUnit.SECONDS));
      BrokenPoolException broken = assertInstanceOf(BrokenPoolException.class, failure.getCause());
      assertTrue(broken.getMessage().matches("worker rank \\d \\(process \\d+\\) ended unexpectedly.*"), broken.getMessage());
    }
    assertEquals(0, pool.workers());
    assertThrows(BrokenPoolException.class, () -> pool.submit(() -> 1));
    assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
    try (MpiPoolExecutor next = Jmpipool.spawn(1)) {
      assertEquals(7, next.submit(() -> 7).get(), "a new pool works after a broken one");
    }
  }

  @Test
  void aWorkerJvmThatCannotStartFailsTheSpawnWithItsOwnMessage() {
    PoolStartException failure = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> assertThrows(
        PoolStartException.class,
        () -> Jmpipool.builder().backend(Backend.SPAWN).workers(2).jvmOptions("-XX:+NoSuchOption").build()));
    assertTrue(failure.getMessage().contains("Unrecognized VM option 'NoSuchOption'"), failure.getMessage());
  }

  @Test
  void spawnedWorkersGetTheChosenPropertiesEnvironmentAndDirectory() throws Exception {
    System.setProperty("jmpipool.it.inherited", "from the caller");
    try (MpiPoolExecutor pool = Jmpipool.builder().backend(Backend.SPAWN).workers(1)
        .systemProperty("it.set", "set here").inheritSystemProperties("jmpipool.it.inherited")
        .environment("JMPIPOOL_IT_VARIABLE", "exported").workingDirectory(java.nio.file.Path.of("/tmp")).build()) {
      String seen = pool.submit(() -> System.getProperty("it.set") + "|" + System.getProperty("jmpipool.it.inherited")
          + "|" + System.getenv("JMPIPOOL_IT_VARIABLE") + "|" + System.getProperty("user.dir")).get();
      assertEquals("set here|from the caller|exported|/tmp", seen);
    } finally {
      System.clearProperty("jmpipool.it.inherited");
    }
  }

  /**
   * A JVM whose classpath starts with jmpipool's jars (a packaged application) makes a class-data
   * archive for its spawned workers at its first pool, before that pool starts: its workers, and
   * the start check's JVM, load their classes from it (on java.lang.foreign, the JDK's classes for
   * native calls too). MPICH here cannot spawn: its pool runs on a named host, the relay's JVM
   * and the worker's started by mpiexec.
   */
  @ParameterizedTest
  @EnumSource(Configuration.class)
  void spawnedWorkersOfAPackagedApplicationStartFromAClassDataArchive(Configuration configuration,
      @TempDir Path temp) throws IOException {
    Path loading = Files.createDirectories(temp.resolve("loading"));
    String[] arguments = configuration.family() == MpiInstallation.Family.MPICH
        ? new String[] {loading.toString(), "localhost"} : new String[] {loading.toString()};
    Jobs.Result result = Jobs.javaJarsFirst(configuration, Map.of("JMPIPOOL_CDS_DIR", temp.resolve("cds").toString()),
        Programs.SpawnsLoggingClassLoading.class, arguments);
    assertEquals(0, result.status(), result.toString());
    assertTrue(result.out().contains("answer 42"), result.toString());
    try (var logs = Files.list(loading)) {
      List<Path> jvms = logs.toList();
      assertTrue(jvms.size() >= 2, "the start check's JVM and the worker's: " + jvms);
      for (Path jvm : jvms) {
        String loaded = Files.readString(jvm);
        assertTrue(loaded.contains("org.jmpipool.internal.SpawnedWorker source: shared objects file (top)"),
            jvm + " loaded the worker's main class from the archive");
        if (configuration.foreign()) {
          assertTrue(loaded.contains("jdk.internal.foreign.abi.DowncallLinker source: shared objects file (top)"),
              jvm + " loaded the linker of native calls from the archive");
        }
      }
    }
  }

  @Test
  void theSameProgramRunsWithPlainJavaOnALocalPoolWithOneNotice() {
    Jobs.Result result = Jobs.java(List.of("-Djmpipool.workers=3"), Programs.Embedded.class);
    assertEquals(0, result.status(), result.toString());
    assertTrue(result.out().contains("squares [1, 4, 9, 16, 25] on 3 workers, backend LOCAL, rank 0 of 4"), result.toString());
    assertEquals(1, result.err().lines().filter(line -> line.startsWith("jmpipool:")).count(), result.toString());
    assertTrue(result.err().contains("jmpipool: not started by the launcher: tasks run on a local pool of 3 worker"
        + " threads"), result.toString());
  }

  @Test
  void theSameProgramRunsOnSpawnedWorkersChosenByProperty() {
    Jobs.Result result = Jobs.java(List.of("-Djmpipool.backend=spawn", "-Djmpipool.workers=2"), Programs.Embedded.class);
    assertEquals(0, result.status(), result.toString());
    assertTrue(result.out().contains("squares [1, 4, 9, 16, 25] on 2 workers, backend SPAWN, rank 0 of 3"), result.toString());
    assertTrue(result.err().lines().noneMatch(line -> line.startsWith("jmpipool:")), "no notice for a chosen backend\n"
        + result);
  }

  @Test
  void theSameProgramRunsUnderTheLauncher() {
    Jobs.Result result = Jobs.program(3, Programs.Embedded.class);
    assertEquals(0, result.status(), result.toString());
    assertTrue(result.out().contains("squares [1, 4, 9, 16, 25] on 2 workers, backend MPI, rank 0 of 3"), result.toString());
  }

  @Test
  void theSerialPolicyDecidesAboutASingleWorker() {
    Jobs.Result raise = Jobs.java(List.of("-Djmpipool.workers=1", "-Djmpipool.serial=raise"), Programs.Embedded.class);
    assertEquals(1, raise.status(), raise.toString());
    assertTrue(raise.err().contains("would have 1 worker, so tasks would run one at a time"), raise.toString());
    Jobs.Result warn = Jobs.java(List.of("-Djmpipool.workers=1"), Programs.Embedded.class);
    assertEquals(0, warn.status(), warn.toString());
    assertTrue(warn.err().contains("tasks run one at a time"), warn.toString());
    Jobs.Result ignore = Jobs.java(List.of("-Djmpipool.workers=1", "-Djmpipool.serial=ignore",
        "-Djmpipool.backend=local"), Programs.Embedded.class);
    assertEquals(0, ignore.status(), ignore.toString());
    assertTrue(ignore.err().lines().noneMatch(line -> line.startsWith("jmpipool:")), ignore.toString());
  }

  /**
   * Plain java without the runtime's --add-opens, as an embedding program runs: lambdas decode
   * reliably while Kryo instances are being created, and exceptions travel as arguments.
   */
  @Test
  void aJvmWithoutTheRuntimesOpensRunsLambdasAndCarriesExceptions() {
    Jobs.Result result = Jobs.java(List.of(), Programs.WithoutOpens.class);
    assertEquals(0, result.status(), result.toString());
    assertTrue(result.out().contains("lambda failures 0"), result.toString());
    assertTrue(result.out().contains("exception argument: IOException as an argument"), result.toString());
  }

  /**
   * Spawned workers through the installed MPI library: the contracts hold on Open MPI; MPICH
   * builds that cannot spawn (Debian's) say so in one line, at once.
   */
  @ParameterizedTest
  @EnumSource(value = Configuration.class, names = {"OPEN_MPI_FFM", "MPICH_FFM"})
  @Timeout(300)
  void spawnedPoolsThroughTheInstalledLibrary(Configuration configuration) {
    Jobs.Result result = Jobs.java(configuration, Programs.SpawnedContracts.class);
    assertEquals(0, result.status(), result.toString());
    if (configuration == Configuration.MPICH_FFM && result.out().contains("cannot spawn: ")) {
      assertTrue(result.out().contains("some builds of the MPICH family cannot spawn processes at all"), result.toString());
      assertTrue(result.elapsed().toSeconds() < 30, result.toString());
      return;
    }
    assertTrue(result.out().contains("ALL PASSED"), result.toString());
  }
}
