package org.jmpipool.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * README's first command on Java 22 or later, as a user with a fresh copy of the sources and no
 * Open MPI Java bindings runs it: the build needs no {@code mpi.jar}, none is made, and the
 * example job runs through java.lang.foreign; ranks on Java 17 are then refused in one line. The copy's Maven repository is this one's, without
 * the bindings and without jmpipool's own artifacts.
 */
@Timeout(600)
class QuickstartIT {

  private Path directory;

  @AfterEach
  void removeCopies() throws IOException {
    if (directory != null) {
      try (Stream<Path> files = Files.walk(directory)) {
        files.sorted(Comparator.reverseOrder()).forEach(file -> file.toFile().delete());
      }
    }
  }

  @Test
  void onJava22OrLaterTheFirstCommandBuildsAndRunsWithoutTheBindingsJar() throws Exception {
    Configuration.OPEN_MPI_FFM.assumeAvailable();
    directory = Files.createTempDirectory("jmpipool-quickstart");
    Path sources = directory.resolve("jmpipool");
    Path repository = directory.resolve("repository");
    Files.createDirectories(sources);
    Files.createDirectories(repository);
    shell("tar -C \"$HOME_DIR\" --exclude=./.git --exclude=./target --exclude='*/target' --exclude=./.mvn/maven.config"
        + " -cf - . | tar -C \"$SOURCES\" -xf - && tar -C \"$REPOSITORY_FROM\" --exclude=./org/open-mpi"
        + " --exclude=./org/jmpipool -cf - . | tar -C \"$REPOSITORY\" -xf -", sources, repository, 120);

    Run quickstart = shell("\"$SOURCES/packaging/quickstart.sh\"", sources, repository, 480);

    assertEquals(0, quickstart.status(), quickstart.output());
    assertTrue(quickstart.output().contains("no Java bindings: the ranks call its library through java.lang.foreign"),
        quickstart.output());
    assertTrue(quickstart.output().matches("(?s).*pi ~ 3\\.1\\d* .* on 3 workers.*"), quickstart.output());
    assertFalse(Files.exists(repository.resolve("org/open-mpi")), "no bindings jar was made or fetched");
    Path runtime;
    try (Stream<Path> libraries = Files.list(sources.resolve("packaging/target/jmpipool/lib"))) {
      runtime = libraries.filter(file -> file.getFileName().toString().startsWith("jmpipool-runtime-")).findFirst()
          .orElseThrow();
    }
    try (ZipFile jar = new ZipFile(runtime.toFile())) {
      assertTrue(jar.getEntry("org/jmpipool/internal/transport/JavaBindings.class") == null, "built without the bindings");
      assertTrue(jar.getEntry("META-INF/versions/22/org/jmpipool/internal/transport/ffm/ForeignBinding.class") != null,
          "built with the ffm transport");
    }
    Run onJava17 = shell("JMPIPOOL_JAVA=\"$JAVA17\" \"$SOURCES/bin/jmpipool\" -n 2 --allow-run-as-root"
        + " org.jmpipool.examples.MonteCarloPi", sources, repository, 60);
    assertEquals(3, onJava17.status(), onJava17.output());
    assertTrue(onJava17.output().strip().endsWith("the bindings transport needs Open MPI's Java bindings, and this"
        + " jmpipool was built without them (its build had no mpi.jar): run the ranks on Java 22+ with the ffm"
        + " transport (JMPIPOOL_JAVA), or run packaging/provision-mpi.sh and rebuild"), onJava17.output());
    try (Stream<ProcessHandle> processes = ProcessHandle.allProcesses()) {
      assertEquals(List.of(), processes.filter(p -> p.info().commandLine().map(c -> c.contains(sources.toString()))
          .orElse(false)).map(ProcessHandle::pid).toList(), "processes of the example job left behind");
    }
  }

  private record Run(int status, String output) {
  }

  /** Runs a shell command with the JDK 22+ as the user's Java, the copies named in the environment. */
  private static Run shell(String script, Path sources, Path repository, long seconds) throws Exception {
    Path jdk = Configuration.OPEN_MPI_FFM.java().getParent().getParent();
    ProcessBuilder builder = new ProcessBuilder("sh", "-c", script).redirectErrorStream(true);
    builder.environment().put("HOME_DIR", Jobs.HOME.toString());
    builder.environment().put("SOURCES", sources.toString());
    builder.environment().put("REPOSITORY_FROM", System.getProperty("maven.repo.local",
        Path.of(System.getProperty("user.home"), ".m2", "repository").toString()));
    builder.environment().put("REPOSITORY", repository.toString());
    builder.environment().put("JAVA17", Path.of(System.getProperty("java.home"), "bin", "java").toString());
    builder.environment().put("JAVA_HOME", jdk.toString());
    builder.environment().put("PATH", jdk.resolve("bin") + ":" + System.getenv("PATH"));
    builder.environment().put("MAVEN_OPTS", "-Dmaven.repo.local=" + repository);
    builder.environment().put("MAVEN_REPO", repository.toString());
    builder.environment().remove("JMPIPOOL_JAVA");
    builder.environment().remove("MAVEN_CONFIG");
    Path output = Files.createTempFile(sources.getParent(), "output", ".txt");
    Process process = builder.redirectOutput(output.toFile()).start();
    if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
      fail(script + " did not end within " + seconds + " s: " + Files.readString(output, StandardCharsets.UTF_8));
    }
    return new Run(process.exitValue(), Files.readString(output, StandardCharsets.UTF_8));
  }
}
