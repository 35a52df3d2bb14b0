package org.jmpipool.it;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jmpipool.internal.transport.MpiInstallation;

/**
 * The MPI and transport a job runs on; the suites run on each. The ranks' Java is the tests'
 * (17) for Open MPI's Java bindings, and the JDK 22+ the build found ({@code jmpipool.jdk22}) for
 * the installed library through java.lang.foreign. A configuration this machine cannot run is
 * skipped with the reason, or fails when {@code jmpipool.configurations.require} is true (the
 * test command as root, which installs everything).
 */
enum Configuration {

  OPEN_MPI_BINDINGS("Open MPI, Java bindings, Java 17", null, MpiInstallation.Family.OPEN_MPI),
  OPEN_MPI_FFM("Open MPI, java.lang.foreign, Java 22+", "ffm", MpiInstallation.Family.OPEN_MPI),
  MPICH_FFM("MPICH, java.lang.foreign, Java 22+", "ffm", MpiInstallation.Family.MPICH);

  private static final String JDK22 = System.getProperty("jmpipool.jdk22", "");
  private static final boolean REQUIRED = Boolean.getBoolean("jmpipool.configurations.require");

  private final String title;
  private final String transport;
  private final MpiInstallation.Family family;

  Configuration(String title, String transport, MpiInstallation.Family family) {
    this.title = title;
    this.transport = transport;
    this.family = family;
  }

  /** Skips the test when this configuration cannot run here, or fails it when it must. */
  void assumeAvailable() {
    String missing = missing();
    if (missing != null) {
      if (REQUIRED) {
        fail(title + " cannot run here: " + missing);
      }
      assumeTrue(false, title + " cannot run here: " + missing);
    }
  }

  private String missing() {
    if (transport != null && (JDK22.isEmpty() || JDK22.startsWith("${") || !Files.isExecutable(java()))) {
      return "no JDK 22+ (packaging/provision-build-tools.sh records one as jmpipool.jdk22)";
    }
    if (new MpiInstallation(System.getenv()).launchProgram(family).isEmpty()) {
      return "no " + family.title() + " launcher on PATH (packaging/provision-mpich.sh installs MPICH)";
    }
    return null;
  }

  /** The MPI family. */
  MpiInstallation.Family family() {
    return family;
  }

  /** Whether the ranks reach MPI through java.lang.foreign. */
  boolean foreign() {
    return transport != null;
  }

  /** The Java the ranks (and an embedding JVM) run. */
  Path java() {
    return transport == null ? Path.of(System.getProperty("java.home"), "bin", "java") : Path.of(JDK22, "bin", "java");
  }

  /** What bin/jmpipool needs in its environment: the ranks' Java. */
  Map<String, String> environment() {
    Map<String, String> environment = new HashMap<>();
    if (transport != null) {
      environment.put("JMPIPOOL_JAVA", java().toString());
    }
    return environment;
  }

  /** The launcher's options that pick this configuration. */
  List<String> launcherOptions() {
    List<String> options = new ArrayList<>(List.of("--mpi", family.optionName()));
    if (transport != null) {
      options.addAll(List.of("--transport", transport));
    }
    return options;
  }

  /**
   * What a JVM that embeds jmpipool (spawned pools, no launcher) needs to use this
   * configuration: the library of the family, named in the environment.
   */
  Map<String, String> embeddedEnvironment() {
    Map<String, String> environment = new HashMap<>();
    if (transport != null) {
      MpiInstallation installation = new MpiInstallation(System.getenv());
      MpiInstallation.LaunchProgram program = installation.launchProgram(family).orElseThrow();
      environment.put(MpiInstallation.LIBRARY_VARIABLE,
          installation.libraryCandidates(program, family).get(0).toString());
    }
    return environment;
  }

  /** The JVM options of an embedding JVM of this configuration. */
  List<String> embeddedJvmOptions() {
    return transport == null ? List.of() : List.of("--enable-native-access=ALL-UNNAMED");
  }

  @Override
  public String toString() {
    return title;
  }
}
