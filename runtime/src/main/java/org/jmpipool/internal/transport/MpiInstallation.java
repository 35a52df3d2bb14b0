package org.jmpipool.internal.transport;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a machine has of MPI: launch programs (Open MPI's {@code mpirun}, the MPICH family's Hydra
 * {@code mpiexec}), which family each belongs to, and where the MPI library that ranks load is.
 * Used by the launcher before any rank starts, and by a JVM that spawns workers without it.
 *
 * <p>Threads: any: it only reads files and runs the MPI's own programs.
 */
public final class MpiInstallation {

  /** The environment variable naming the MPI library explicitly. */
  public static final String LIBRARY_VARIABLE = "JMPIPOOL_LIBMPI";
  /**
   * Set on the ranks of a job the launcher kept on its own host, for which it chose Open MPI's
   * shared-memory transport layer ({@code OMPI_MCA_pml=ob1}): a pool the job starts on other
   * hosts must not inherit that choice.
   */
  public static final String SINGLE_HOST_PML_VARIABLE = "JMPIPOOL_SINGLE_HOST_PML";
  /** The system property naming the MPI library; the launcher sets it on every rank. */
  public static final String LIBRARY_PROPERTY = "jmpipool.libmpi";

  private static final Pattern HYDRA_LIBDIR = Pattern.compile("--libdir=(\\S+)");

  /** The two families of MPI libraries, by their application binary interface. */
  public enum Family {
    OPEN_MPI("Open MPI", "openmpi", List.of("libmpi.so.40", "libmpi.so")),
    MPICH("MPICH", "mpich", List.of("libmpi.so.12", "libmpich.so.12", "libmpi_cray.so.12", "libmpich.so", "libmpi.so"));

    private final String title;
    private final String optionName;
    private final List<String> libraryNames;

    Family(String title, String optionName, List<String> libraryNames) {
      this.title = title;
      this.optionName = optionName;
      this.libraryNames = libraryNames;
    }

    /** Returns the family's name for people, such as {@code "Open MPI"}. */
    public String title() {
      return title;
    }

    /** Returns the family's name in the launcher's {@code --mpi} option. */
    public String optionName() {
      return optionName;
    }

    /** Parses {@code openmpi} or {@code mpich}. */
    public static Optional<Family> ofOption(String name) {
      for (Family family : values()) {
        if (family.optionName.equalsIgnoreCase(name)) {
          return Optional.of(family);
        }
      }
      return Optional.empty();
    }
  }

  /**
   * A program that starts MPI jobs.
   *
   * @param executable its path
   * @param family the family it belongs to
   * @param version the first line of what {@code --version} says
   */
  public record LaunchProgram(Path executable, Family family, String version) {
  }

  private final Map<String, String> environment;
  /**
   * What each command printed, or is printing: run once per installation, by the first thread
   * that asks; a thread that asks while it runs waits for that run.
   */
  private final Map<List<String>, FutureTask<String>> answers = new ConcurrentHashMap<>();

  public MpiInstallation(Map<String, String> environment) {
    this.environment = environment;
  }

  /**
   * Starts finding, on a thread of its own, the launch program {@link #launchProgram} will find
   * for this family (running each candidate's {@code --version}), and then running {@code
   * followUp} with it: the answers are ready, or on their way, when the same questions are asked
   * (the launcher asks them after parsing its command line, which takes longer).
   *
   * @param family the family, or {@code null} for whichever plain {@code mpiexec} is
   * @param followUp more questions about the program found
   */
  public void findAhead(Family family, Consumer<LaunchProgram> followUp) {
    Thread finder = new Thread(() -> launchProgram(family).ifPresent(followUp), "jmpipool-find-mpi");
    finder.setDaemon(true);
    finder.start();
  }

  /**
   * Finds a launch program of a family: its own names first ({@code mpirun.openmpi},
   * {@code mpiexec.hydra}...), so that the one the alternatives system made plain
   * {@code mpirun} does not decide; then {@code mpiexec} and {@code mpirun}.
   *
   * @param wanted the family, or {@code null} for whichever plain {@code mpiexec} is
   * @return the program, or empty when there is none on PATH
   */
  public Optional<LaunchProgram> launchProgram(Family wanted) {
    List<String> names = new ArrayList<>();
    if (wanted == Family.OPEN_MPI) {
      names.addAll(List.of("mpirun.openmpi", "mpiexec.openmpi"));
    } else if (wanted == Family.MPICH) {
      names.addAll(List.of("mpiexec.hydra", "mpiexec.mpich"));
    }
    names.addAll(List.of("mpiexec", "mpirun"));
    for (String name : names) {
      Optional<LaunchProgram> program = executable(name).flatMap(this::identify);
      if (program.isPresent() && (wanted == null || program.get().family() == wanted)) {
        return program;
      }
    }
    return Optional.empty();
  }

  /**
   * Tells which family a launch program belongs to, from what its {@code --version} says.
   *
   * @return its description, or empty when it is not a launcher of a known family
   */
  public Optional<LaunchProgram> identify(Path executable) {
    String version = output(List.of(executable.toString(), "--version"));
    String text = version.toLowerCase(Locale.ROOT);
    Family family = text.contains("open mpi") || text.contains("openrte") || text.contains("prrte") ? Family.OPEN_MPI
        : text.contains("hydra") || text.contains("intel(r) mpi") || text.contains("mpich") ? Family.MPICH
        : null;
    if (family == null) {
      return Optional.empty();
    }
    String first = version.lines().map(String::strip).filter(line -> !line.isEmpty()).findFirst().orElse("");
    if (family == Family.MPICH) {
      Matcher hydraVersion = Pattern.compile("Version:\\s+(\\S+)").matcher(version);
      first = hydraVersion.find() ? "Hydra " + hydraVersion.group(1) : first;
    }
    return Optional.of(new LaunchProgram(executable, family, first));
  }

  /**
   * The files that may be the MPI library, most likely first: {@code JMPIPOOL_LIBMPI}; next to
   * the launch program (its installation's library directory); {@code MPI_HOME}; the
   * directories of {@code LD_LIBRARY_PATH}; the linker cache. Only existing files are listed.
   *
   * @param program the launch program the job uses, or {@code null}
   * @param family the family wanted, or {@code null} for any
   */
  public List<Path> libraryCandidates(LaunchProgram program, Family family) {
    Set<Path> candidates = new LinkedHashSet<>();
    String explicit = environment.get(LIBRARY_VARIABLE);
    if (explicit != null && !explicit.isEmpty()) {
      candidates.add(Path.of(explicit));
      return List.copyOf(candidates);
    }
    List<String> names = new ArrayList<>();
    for (Family each : Family.values()) {
      if (family == null || each == family) {
        each.libraryNames.stream().filter(name -> !names.contains(name)).forEach(names::add);
      }
    }
    List<Path> directories = new ArrayList<>();
    if (program != null) {
      directories.addAll(libraryDirectories(program, names));
    }
    String home = environment.get("MPI_HOME");
    if (home != null && !home.isEmpty()) {
      directories.add(Path.of(home, "lib"));
      directories.add(Path.of(home, "lib64"));
    }
    for (String dir : environment.getOrDefault("LD_LIBRARY_PATH", "").split(File.pathSeparator)) {
      if (!dir.isEmpty()) {
        directories.add(Path.of(dir));
      }
    }
    for (Path directory : directories) {
      for (String name : names) {
        Path file = directory.resolve(name);
        if (Files.isRegularFile(file)) {
          candidates.add(file);
        }
      }
    }
    candidates.addAll(linkerCache(names));
    return List.copyOf(candidates);
  }

  /**
   * The library directories of a launch program's installation. For Open MPI, those of its
   * prefix where the usual layouts put the library (plain, Fedora's, Debian's multiarch), and only
   * when none holds one, the libdir {@code ompi_info} reports (it takes a quarter of a second to
   * say it); for Hydra, the libdir its {@code -info} reports.
   */
  private List<Path> libraryDirectories(LaunchProgram program, List<String> names) {
    List<Path> directories = new ArrayList<>();
    Path real;
    try {
      real = program.executable().toRealPath();
    } catch (IOException e) {
      real = program.executable();
    }
    Path prefix = real.getParent() == null ? null : real.getParent().getParent();
    List<Path> conventional = new ArrayList<>();
    if (prefix != null) {
      conventional.add(prefix.resolve("lib"));
      conventional.add(prefix.resolve("lib64"));
    }
    if (program.family() == Family.OPEN_MPI) {
      if (prefix != null) {
        conventional.add(prefix.resolve("lib64").resolve("openmpi").resolve("lib"));
        try (DirectoryStream<Path> multiarch = Files.newDirectoryStream(prefix.resolve("lib"), "*-linux-gnu*")) {
          multiarch.forEach(dir -> conventional.add(dir.resolve("openmpi").resolve("lib")));
        } catch (IOException e) {
          // No multiarch directories: nothing to add.
        }
      }
      boolean found = conventional.stream()
          .anyMatch(dir -> names.stream().anyMatch(name -> Files.isRegularFile(dir.resolve(name))));
      Path ompiInfo = real.resolveSibling("ompi_info");
      if (!found && Files.isExecutable(ompiInfo)) {
        output(List.of(ompiInfo.toString(), "--path", "libdir", "--parsable")).lines()
            .filter(line -> line.startsWith("path:libdir:"))
            .forEach(line -> directories.add(Path.of(line.substring("path:libdir:".length()).strip())));
      }
    } else {
      Matcher libdir = HYDRA_LIBDIR.matcher(output(List.of(real.toString(), "-info")));
      while (libdir.find()) {
        directories.add(Path.of(libdir.group(1)));
      }
    }
    directories.addAll(conventional);
    return directories;
  }

  /** The files of the linker cache ({@code ldconfig -p}) with these names, in the order of the names. */
  private List<Path> linkerCache(List<String> names) {
    String cache = "";
    for (String ldconfig : List.of("/sbin/ldconfig", "/usr/sbin/ldconfig")) {
      if (Files.isExecutable(Path.of(ldconfig))) {
        cache = output(List.of(ldconfig, "-p"));
        break;
      }
    }
    List<Path> files = new ArrayList<>();
    for (String name : names) {
      cache.lines().map(String::strip).filter(line -> line.startsWith(name + " "))
          .map(line -> line.substring(line.lastIndexOf("=> ") + 3).strip())
          .map(Path::of).filter(Files::isRegularFile).forEach(files::add);
    }
    return files;
  }

  /** Finds an executable on PATH, or takes a path as it is. */
  public Optional<Path> executable(String name) {
    if (name.contains(File.separator)) {
      Path path = Path.of(name);
      return Files.isExecutable(path) && !Files.isDirectory(path) ? Optional.of(path) : Optional.empty();
    }
    for (String dir : environment.getOrDefault("PATH", "").split(File.pathSeparator)) {
      if (dir.isEmpty()) {
        continue;
      }
      Path candidate = Path.of(dir, name);
      if (Files.isExecutable(candidate) && !Files.isDirectory(candidate)) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }

  /**
   * Open MPI's daemons talk over TCP connections that are idle while a job runs: without
   * keepalive probes, mpirun would wait for a node cut off from it for the 15 minutes TCP takes
   * to give up, even after the job was aborted. With these options, it ends the job at most 8 s
   * after the link failed, before the ranks' heartbeats (10 s) would abort it: an abort would put
   * data on the dead connection, where keepalive no longer applies. A site or user setting of its
   * own (in the environment) stays.
   *
   * @return mpirun's options, empty when the environment sets the keepalive time
   */
  public List<String> openMpiDaemonKeepalive() {
    if (environment.containsKey("OMPI_MCA_oob_tcp_keepalive_time")) {
      return List.of();
    }
    return List.of("--mca", "oob_tcp_keepalive_time", "2", "--mca", "oob_tcp_keepalive_intvl", "2",
        "--mca", "oob_tcp_keepalive_probes", "3");
  }

  /**
   * What a short command prints (stdout and stderr), or nothing when it cannot run, or does not
   * end, in 10 s; asked once per installation.
   */
  public String output(List<String> command) {
    FutureTask<String> run = new FutureTask<>(() -> run(command));
    FutureTask<String> asked = answers.putIfAbsent(List.copyOf(command), run);
    if (asked == null) {
      run.run();
      asked = run;
    }
    try {
      return asked.get();
    } catch (ExecutionException e) {
      return "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }

  private static String run(List<String> command) {
    Path file = null;
    try {
      file = Files.createTempFile("jmpipool-mpi", ".out");
      // A look-ahead still running when the JVM ends leaves no file behind.
      file.toFile().deleteOnExit();
      Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(file.toFile()).start();
      process.getOutputStream().close();
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        return "";
      }
      return Files.readString(file, StandardCharsets.ISO_8859_1);
    } catch (IOException e) {
      return "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    } finally {
      if (file != null) {
        try {
          Files.deleteIfExists(file);
        } catch (IOException e) {
          // A temporary file left behind is harmless.
        }
      }
    }
  }
}
