package org.jmpipool.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Finding the Java bindings of the installed Open MPI, and refusing the wrong ones. */
class InstallationTest {

  @TempDir
  Path root;

  private final Map<String, String> environment = new HashMap<>();

  private Installation installation() {
    environment.putIfAbsent("HOME", root.resolve("home").toString());
    return new Installation(environment, root.resolve("dist"));
  }

  private Path mpirun() throws IOException {
    Path bin = Files.createDirectories(root.resolve("openmpi/bin"));
    return Files.createFile(bin.resolve("mpirun"));
  }

  private static Path jar(Path file, String version) throws IOException {
    Files.createDirectories(file.getParent());
    Manifest manifest = new Manifest();
    manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    if (version != null) {
      manifest.getMainAttributes().put(Attributes.Name.IMPLEMENTATION_VERSION, version);
    }
    try (OutputStream out = Files.newOutputStream(file); JarOutputStream unused = new JarOutputStream(out, manifest)) {
      // Only the manifest matters here.
    }
    return file;
  }

  @Test
  void noBindingsAnywhereIsOneLineNamingTheVersionAndTheRemedy() throws IOException {
    LaunchException e = assertThrows(LaunchException.class, () -> installation().bindingsJar("4.1.4", mpirun()));
    assertEquals(LaunchException.ENVIRONMENT, e.exitStatus());
    assertTrue(e.getMessage().startsWith("the Java bindings (mpi.jar) of Open MPI 4.1.4 were not found: run "), e.getMessage());
    assertTrue(e.getMessage().endsWith("provision-mpi.sh, or set JMPIPOOL_MPI_JAR"), e.getMessage());
  }

  @Test
  void theLocalMavenRepositoryHoldsTheProvisionedJar() throws Exception {
    Path provisioned = jar(root.resolve("home/.m2/repository/org/open-mpi/mpi/4.1.4/mpi-4.1.4.jar"), "4.1.4");
    assertEquals(provisioned, installation().bindingsJar("4.1.4", mpirun()));
  }

  @Test
  void aJarInOpenMpisLibDirectoryComesFirst() throws Exception {
    Path mpirun = mpirun();
    Path shipped = jar(root.resolve("openmpi/lib/mpi.jar"), null);
    jar(root.resolve("home/.m2/repository/org/open-mpi/mpi/4.1.4/mpi-4.1.4.jar"), "4.1.4");
    assertEquals(shipped, installation().bindingsJar("4.1.4", mpirun));
  }

  @Test
  void anExplicitJarMustExistAndMatch() throws IOException {
    environment.put("JMPIPOOL_MPI_JAR", root.resolve("missing.jar").toString());
    LaunchException missing = assertThrows(LaunchException.class, () -> installation().bindingsJar("4.1.4", mpirun()));
    assertTrue(missing.getMessage().contains("which does not exist"), missing.getMessage());

    environment.put("JMPIPOOL_MPI_JAR", jar(root.resolve("other.jar"), "5.0.3").toString());
    LaunchException mismatch = assertThrows(LaunchException.class, () -> installation().bindingsJar("4.1.4", root.resolve("openmpi/bin/mpirun")));
    assertTrue(mismatch.getMessage().contains("are built for Open MPI 5.0.3, but Open MPI 4.1.4 is installed"), mismatch.getMessage());
  }

  @Test
  void executablesAreFoundOnPathOnly() throws IOException {
    Path bin = Files.createDirectories(root.resolve("bin"));
    Path tool = Files.createFile(bin.resolve("srun"));
    assertTrue(tool.toFile().setExecutable(true));
    environment.put("PATH", root.resolve("nothing-here") + ":" + bin);
    assertEquals(tool, installation().executable("srun").orElseThrow());
    assertTrue(installation().executable("mpirun").isEmpty());
  }
}
