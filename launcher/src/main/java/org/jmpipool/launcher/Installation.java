package org.jmpipool.launcher;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jmpipool.internal.transport.MpiBindings;
import org.jmpipool.internal.transport.MpiInstallation;
import org.jmpipool.internal.transport.TransportException;

/**
 * What the launcher finds on this machine: executables on PATH, MPI launch programs and the MPI
 * library, the Open MPI version, its Java bindings jar and the directory of their native half.
 */
class Installation {

  private static final Pattern OMPI_VERSION = Pattern.compile("Open MPI v(\\d+(?:\\.\\d+)*)");

  private final Map<String, String> environment;
  private final Path home;
  private final MpiInstallation mpi;

  Installation(Map<String, String> environment, Path home) {
    this.environment = environment;
    this.home = home;
    this.mpi = new MpiInstallation(environment);
  }

  Map<String, String> environment() {
    return environment;
  }

  Path home() {
    return home;
  }

  /**
   * Starts finding, on a thread of its own while the command line is parsed, what a job of the
   * default transport asks next: its launch program, then the Open MPI version for the bindings,
   * or the MPI library, loaded in this JVM, for {@code ffm}. The launcher then asks the same
   * questions and gets the answers found, or waits for them; loading a library again is cheap.
   */
  void findAhead() {
    MpiBindings.Kind transport;
    try {
      transport = MpiBindings.resolve(environment.get(MpiBindings.TRANSPORT_VARIABLE), rankJavaVersion());
    } catch (IllegalArgumentException e) {
      return;
    }
    MpiInstallation.Family family = transport == MpiBindings.Kind.BINDINGS ? MpiInstallation.Family.OPEN_MPI : null;
    mpi.findAhead(family, program -> {
      try {
        if (transport == MpiBindings.Kind.BINDINGS) {
          openMpiVersion(program.executable());
        } else {
          mpiLibrary(program, program.family());
        }
      } catch (LaunchException e) {
        // The launcher asks again, and says what is wrong.
      }
    });
  }

  /** Finds an executable on PATH, or takes a path as it is. */
  Optional<Path> executable(String name) {
    return mpi.executable(name);
  }

  /** Finds an MPI launch program of a family, or of any family ({@code null}). */
  Optional<MpiInstallation.LaunchProgram> launchProgram(MpiInstallation.Family family) {
    return mpi.launchProgram(family);
  }

  /** Open MPI's options that bound how long mpirun waits for a node cut off from it. */
  List<String> openMpiDaemonKeepalive() {
    return mpi.openMpiDaemonKeepalive();
  }

  /** Tells which MPI family a launch program belongs to. */
  Optional<MpiInstallation.LaunchProgram> identify(Path executable) {
    return mpi.identify(executable);
  }

  /**
   * An MPI library the ranks can load.
   *
   * @param file the library
   * @param family its family, by its ABI
   * @param version the first line of its version string
   */
  record Library(Path file, MpiInstallation.Family family, String version) {
  }

  /**
   * Finds the MPI library the ranks load with the ffm transport ({@link
   * MpiInstallation#libraryCandidates}) and checks it in this JVM, which is the ranks' Java: a
   * known ABI, every function jmpipool calls, a version string that agrees.
   *
   * @param program the launch program of the job, or {@code null}
   * @param family the family wanted, or {@code null} for any
   * @throws LaunchException in one line naming the file(s) and what is wrong
   */
  Library mpiLibrary(MpiInstallation.LaunchProgram program, MpiInstallation.Family family) throws LaunchException {
    List<Path> candidates = mpi.libraryCandidates(program, family);
    String explicit = environment.get(MpiInstallation.LIBRARY_VARIABLE);
    List<String> refusals = new ArrayList<>();
    for (Path candidate : candidates) {
      try {
        MpiBindings.ForeignLibrary library = (MpiBindings.ForeignLibrary) MpiBindings.foreign(candidate);
        String version = shortVersion(library.libraryVersion());
        if (family == null || library.family() == family || explicit != null && !explicit.isEmpty()) {
          return new Library(candidate, library.family(), version);
        }
        refusals.add(candidate + " is " + library.family().title() + "'s (" + version + ")");
      } catch (TransportException e) {
        refusals.add(e.getMessage());
      }
    }
    if (explicit != null && !explicit.isEmpty()) {
      throw new LaunchException(LaunchException.ENVIRONMENT, MpiInstallation.LIBRARY_VARIABLE + "=" + explicit + ": "
          + String.join("; ", refusals));
    }
    throw new LaunchException(LaunchException.ENVIRONMENT, "no MPI library of " + (family == null ? "any family"
        : family.title()) + " found (" + (refusals.isEmpty() ? "none next to " + (program == null ? "mpiexec"
        : program.executable()) + ", in MPI_HOME, LD_LIBRARY_PATH or the linker cache" : String.join("; ", refusals))
        + "): set " + MpiInstallation.LIBRARY_VARIABLE + " to the library's file");
  }

  /** A library's version string in a few words: "Open MPI v4.1.4", "MPICH Version: 4.0.2". */
  static String shortVersion(String libraryVersion) {
    String first = libraryVersion.lines().findFirst().orElse("").strip().replaceAll("\\s+", " ");
    int comma = first.indexOf(", ");
    return comma < 0 ? first : first.substring(0, comma);
  }

  /** Returns the Open MPI version, as {@code ompi_info --version} reports it. */
  String openMpiVersion(Path mpirun) throws LaunchException {
    Path ompiInfo = mpirun.resolveSibling("ompi_info");
    if (!Files.isExecutable(ompiInfo)) {
      ompiInfo = executable("ompi_info").orElseThrow(() -> new LaunchException(LaunchException.ENVIRONMENT,
          "ompi_info not found next to " + mpirun + " or on PATH: is Open MPI installed completely?"));
    }
    String output = mpi.output(List.of(ompiInfo.toString(), "--version"));
    Matcher matcher = OMPI_VERSION.matcher(output);
    if (!matcher.find()) {
      throw new LaunchException(LaunchException.ENVIRONMENT, "cannot read the Open MPI version from '" + ompiInfo
          + " --version': " + (output.isBlank() ? "it printed nothing, or did not run within 10 s" : output.strip()));
    }
    return matcher.group(1);
  }

  /**
   * Finds the Java bindings of the given Open MPI version and checks that they match it.
   *
   * @param version the installed Open MPI version
   * @param mpirun the mpirun found, whose installation may hold the jar
   * @return the jar
   * @throws LaunchException when there is none, or it is built for another version
   */
  Path bindingsJar(String version, Path mpirun) throws LaunchException {
    List<Path> candidates = new ArrayList<>();
    String explicit = environment.get("JMPIPOOL_MPI_JAR");
    if (explicit != null && !explicit.isEmpty()) {
      Path jar = Path.of(explicit);
      if (!Files.isRegularFile(jar)) {
        throw new LaunchException(LaunchException.ENVIRONMENT, "JMPIPOOL_MPI_JAR names " + jar + ", which does not exist");
      }
      candidates.add(jar);
    }
    String mpiHome = environment.get("MPI_HOME");
    if (mpiHome != null && !mpiHome.isEmpty()) {
      candidates.add(Path.of(mpiHome, "lib", "mpi.jar"));
    }
    Path prefix = mpirun.toAbsolutePath().getParent().getParent();
    if (prefix != null) {
      candidates.add(prefix.resolve("lib").resolve("mpi.jar"));
      candidates.add(prefix.resolve("lib64").resolve("mpi.jar"));
    }
    candidates.add(mavenRepository().resolve(Path.of("org", "open-mpi", "mpi", version, "mpi-" + version + ".jar")));
    for (Path jar : candidates) {
      if (Files.isRegularFile(jar)) {
        checkVersion(jar, version);
        return jar;
      }
    }
    throw new LaunchException(LaunchException.ENVIRONMENT, "the Java bindings (mpi.jar) of Open MPI " + version
        + " were not found: run " + provisionScript() + ", or set JMPIPOOL_MPI_JAR");
  }

  /** Finds the directory holding libmpi_java.so, which some JVMs do not search by default. */
  Optional<Path> nativeLibraryDirectory(Path mpirun) {
    List<Path> candidates = new ArrayList<>();
    String mpiHome = environment.get("MPI_HOME");
    if (mpiHome != null && !mpiHome.isEmpty()) {
      candidates.add(Path.of(mpiHome, "lib"));
    }
    Path prefix = mpirun.toAbsolutePath().getParent().getParent();
    if (prefix != null) {
      candidates.add(prefix.resolve("lib"));
      candidates.add(prefix.resolve("lib64"));
      candidates.add(prefix.resolve("lib64").resolve("openmpi").resolve("lib"));
      try (DirectoryStream<Path> multiarch = Files.newDirectoryStream(prefix.resolve("lib"), "*-linux-gnu*")) {
        multiarch.forEach(dir -> candidates.add(dir.resolve("openmpi").resolve("lib")));
      } catch (IOException e) {
        // No multiarch directories: nothing to add.
      }
    }
    return candidates.stream().filter(dir -> Files.exists(dir.resolve("libmpi_java.so"))).findFirst();
  }

  String provisionScript() {
    Path inDistribution = home.resolve("bin").resolve("provision-mpi.sh");
    if (Files.exists(inDistribution)) {
      return inDistribution.toString();
    }
    return home.resolve("../../provision-mpi.sh").normalize().toString();
  }

  private Path mavenRepository() {
    String repository = environment.get("MAVEN_REPO");
    if (repository != null && !repository.isEmpty()) {
      return Path.of(repository);
    }
    return Path.of(environment.getOrDefault("HOME", System.getProperty("user.home")), ".m2", "repository");
  }

  private void checkVersion(Path jar, String version) throws LaunchException {
    String built;
    try (JarFile file = new JarFile(jar.toFile())) {
      built = file.getManifest() == null ? null : file.getManifest().getMainAttributes().getValue("Implementation-Version");
    } catch (IOException e) {
      throw new LaunchException(LaunchException.ENVIRONMENT, "cannot read the Java bindings " + jar + ": " + e.getMessage());
    }
    if (built != null && !built.equals(version)) {
      throw new LaunchException(LaunchException.ENVIRONMENT, "the Java bindings " + jar + " are built for Open MPI "
          + built + ", but Open MPI " + version + " is installed: run " + provisionScript());
    }
  }

  /** Returns whether this process runs as root. */
  boolean runningAsRoot() {
    return new com.sun.security.auth.module.UnixSystem().getUid() == 0;
  }

  /**
   * Returns the feature version of the Java the ranks run: the launcher's own (bin/jmpipool runs
   * the launcher with {@code JMPIPOOL_JAVA} too), or 0 when {@code JMPIPOOL_JAVA} names another
   * one, whose version is not known.
   */
  int rankJavaVersion() {
    String explicit = environment.get("JMPIPOOL_JAVA");
    if (explicit == null || explicit.isEmpty()) {
      return Runtime.version().feature();
    }
    try {
      Path own = Path.of(System.getProperty("java.home"), "bin", "java").toRealPath();
      return own.equals(Path.of(explicit).toRealPath()) ? Runtime.version().feature() : 0;
    } catch (IOException e) {
      return 0;
    }
  }

  int cores() {
    return Runtime.getRuntime().availableProcessors();
  }
}
