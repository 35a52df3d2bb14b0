package org.jmpipool.launcher;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.jmpipool.internal.ClassDataArchive;
import org.jmpipool.internal.JobContext;
import org.jmpipool.internal.job.ProgramArguments;
import org.jmpipool.internal.RankJvm;
import org.jmpipool.internal.transport.MpiBindings;
import org.jmpipool.internal.transport.MpiInstallation;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * The {@code jmpipool} command: checks a launch request and turns it into an {@code mpirun} or
 * {@code srun} command line that starts the bootstrap on every rank.
 *
 * <p>Started by {@code bin/jmpipool}, it writes the command line to the file named by
 * {@code JMPIPOOL_COMMAND_FILE} and the script execs it; started otherwise, it runs the command
 * itself and returns its exit status.
 */
@Command(name = "jmpipool", mixinStandardHelpOptions = true, versionProvider = Launcher.Version.class,
    sortOptions = false, usageHelpAutoWidth = true,
    description = {"Runs a Java program on MPI ranks: rank 0 runs MAIN_CLASS with an injected executor",
        "(Jmpipool.executor(), or PoolApplication.run), the other ranks run its tasks.", ""},
    exitCodeListHeading = "%nExit status:%n",
    exitCodeList = {"0:the program returned", "1:the program threw, or the job failed",
        "2:bad usage: unknown option or class, a class with no main", "3:MPI missing or unusable: no launcher, srun or Java bindings, or an MPI library jmpipool cannot use",
        "n:the status the program passed to System.exit(n)"})
public final class Launcher implements Callable<Integer> {

  static final String BOOTSTRAP = "org.jmpipool.internal.Bootstrap";

  /** How the ranks are started. */
  enum Kind {
    /** srun inside a SLURM allocation when srun exists, the MPI's own launcher otherwise. */
    auto,
    /** The MPI's own launcher: Open MPI's mpirun, or the MPICH family's Hydra mpiexec. */
    mpirun,
    /** SLURM's srun. */
    srun
  }

  /** Which MPI family starts and runs the ranks. */
  enum MpiChoice {
    /** The one the transport needs, else the plain mpiexec's. */
    auto,
    openmpi,
    mpich
  }

  @Option(names = {"-n", "--np"}, paramLabel = "N",
      description = "Ranks to start: 1 master + N-1 workers (default: inside a SLURM allocation, its tasks;"
          + " elsewhere, the number of cores + 1).")
  private Integer ranks;

  @Option(names = {"-cp", "--classpath", "--class-path"}, paramLabel = "PATH",
      description = "The program's classpath (default: $CLASSPATH, else the current directory).")
  private String classpath;

  @Option(names = {"-J", "--jvm-opt"}, paramLabel = "OPT",
      description = "A JVM option for every rank, e.g. -J-Xmx4g (repeatable).")
  private List<String> jvmOptions = new ArrayList<>();

  @Option(names = "--threads-per-rank", paramLabel = "T",
      description = "Task threads of each worker rank: each runs up to T tasks at once (default 1). With one rank per"
          + " node, saves the memory of a JVM per core.")
  private Integer threadsPerRank;

  @Option(names = "--mpirun-opt", paramLabel = "OPT",
      description = "One argument for mpirun or srun, e.g. --mpirun-opt=--report-bindings (repeatable).")
  private List<String> launcherOptions = new ArrayList<>();

  @Option(names = "--hostfile", paramLabel = "FILE",
      description = "The hosts to start the ranks on, in the MPI launcher's own format (Open MPI: 'host slots=N';"
          + " Hydra: 'host:N'), rank 0 on the first; not under srun, where SLURM places the ranks.")
  private Path hostfile;

  @Option(names = "--launch-agent", paramLabel = "PROGRAM",
      description = "How the MPI launcher starts its daemons on other hosts, instead of ssh: PROGRAM HOST COMMAND..."
          + " (Open MPI's plm_rsh_agent, Hydra's -launcher rsh -launcher-exec); not under srun.")
  private String launchAgent;

  @Option(names = "--spawn-hosts", paramLabel = "HOSTS",
      description = "Comma-separated hosts for the pools the program spawns (Jmpipool.spawn, Backend.SPAWN): their"
          + " workers run there, an MPI job of their own started from rank 0 (sets jmpipool.spawn.hosts).")
  private String spawnHosts;

  @Option(names = "--launcher", paramLabel = "KIND", defaultValue = "auto",
      description = "auto, mpirun or srun (default: ${DEFAULT-VALUE}: srun inside a SLURM allocation, else the MPI's own"
          + " launcher: Open MPI's mpirun, or Hydra's mpiexec).")
  private Kind kind;

  @Option(names = "--mpi", paramLabel = "FAMILY", defaultValue = "auto",
      description = "openmpi, mpich (the MPICH family: MPICH, Intel MPI, MVAPICH) or auto (default: the family the"
          + " transport needs, else the plain mpiexec's).")
  private MpiChoice mpi;

  @Option(names = "--mpiexec", paramLabel = "PATH",
      description = "The MPI launch program to use (an mpirun, or a Hydra mpiexec); its family is read from its --version.")
  private String mpiexec;

  @Option(names = "--transport", paramLabel = "KIND",
      description = "How ranks reach MPI: ffm (the installed MPI library, through java.lang.foreign: Java 22+), bindings"
          + " (Open MPI's Java bindings) or auto (default: $JMPIPOOL_TRANSPORT, else ffm on Java 22+, else bindings).")
  private String transport;

  @Option(names = "--srun-mpi", paramLabel = "TYPE",
      description = "The PMI flavour srun uses (srun --mpi=TYPE; default: $JMPIPOOL_SRUN_MPI, else pmix for Open MPI,"
          + " pmi2 for the MPICH family).")
  private String srunMpi;

  @Option(names = "--allow-run-as-root", description = "Let mpirun start ranks as root.")
  private boolean allowRunAsRoot;

  @Option(names = "--dry-run", description = "Print the command that would run, and exit.")
  private boolean dryRun;

  @Option(names = "--verbose", description = "Print the command to stderr and log at debug level on every rank.")
  private boolean verbose;

  @Parameters(index = "0", paramLabel = "MAIN_CLASS", description = "The program's class.")
  private String mainClass;

  @Parameters(index = "1..*", paramLabel = "ARGS", description = "The program's arguments, passed unchanged.")
  private List<String> programArguments = new ArrayList<>();

  /** Unless the user set it, every rank gets it empty: UCX then leaves SIGSEGV to the JVM. */
  static final String UCX_SIGNALS = "UCX_ERROR_SIGNALS";

  private final Installation installation;
  @Spec
  private CommandSpec spec;
  /** What the launcher chose and why (launcher, MPI and library, transport), for --dry-run and --verbose. */
  private List<String> choices = List.of();
  private String transportReason;

  Launcher(Installation installation) {
    this.installation = installation;
  }

  /**
   * Runs the launcher.
   *
   * @param args the command line
   */
  public static void main(String[] args) {
    Map<String, String> environment = System.getenv();
    Path home = Path.of(environment.getOrDefault("JMPIPOOL_HOME", ".")).toAbsolutePath().normalize();
    Installation installation = new Installation(environment, home);
    installation.findAhead();
    System.exit(commandLine(new Launcher(installation)).execute(args));
  }

  static CommandLine commandLine(Launcher launcher) {
    CommandLine commandLine = new CommandLine(launcher)
        .setStopAtPositional(true)
        .setExpandAtFiles(false)
        .setEndOfOptionsDelimiter("--")
        .setCaseInsensitiveEnumValuesAllowed(true);
    commandLine.setExecutionExceptionHandler((exception, line, parsed) -> {
      if (exception instanceof LaunchException launch) {
        line.getErr().println("jmpipool: " + launch.getMessage());
        return launch.exitStatus();
      }
      throw exception;
    });
    return commandLine;
  }

  @Override
  public Integer call() throws LaunchException, IOException, InterruptedException {
    JobCommand job = jobCommand();
    List<String> inline = job.inline();
    if (dryRun || verbose) {
      choices.forEach(choice -> spec.commandLine().getErr().println("jmpipool: " + choice));
      if (job.argumentsTooLong()) {
        spec.commandLine().getErr().println("jmpipool: the program's arguments (" + job.argumentBytes() + " bytes) are"
            + " too long for MPI's command line; they reach rank 0 through a file in " + argumentsDirectory());
      }
    }
    if (dryRun) {
      System.out.println(Shell.quote(inline));
      return 0;
    }
    if (verbose) {
      spec.commandLine().getErr().println("jmpipool: " + Shell.quote(inline));
    }
    spec.commandLine().getErr().flush();
    Path argumentsFile = job.argumentsTooLong() ? Files.createTempFile(argumentsDirectory(), "jmpipool-args-", "") : null;
    List<String> start = job.start(argumentsFile);
    String commandFile = installation.environment().get("JMPIPOOL_COMMAND_FILE");
    if (commandFile != null && !commandFile.isEmpty()) {
      // bin/jmpipool appends the program's class and arguments from its own command line, byte for
      // byte (this JVM decoded them by its locale), or writes the arguments to the file.
      int launcherArguments = spec.commandLine().getParseResult().originalArgs().size() - 1 - programArguments.size();
      Files.writeString(Path.of(commandFile), launcherArguments + "\n" + (argumentsFile == null ? "" : argumentsFile)
          + "\n" + Shell.quote(start), StandardCharsets.UTF_8);
      return 0;
    }
    List<String> command = new ArrayList<>(start);
    command.add(mainClass);
    if (argumentsFile == null) {
      command.addAll(programArguments);
    } else {
      Files.write(argumentsFile, ProgramArguments.encode(programArguments));
    }
    return new ProcessBuilder(command).inheritIO().start().waitFor();
  }

  /** Where a program's arguments go when they are too long for the command line: $TMPDIR, else /tmp. */
  private Path argumentsDirectory() {
    String tmp = installation.environment().get("TMPDIR");
    return Path.of(tmp != null && !tmp.isEmpty() ? tmp : "/tmp");
  }

  /** Builds the command line of the job, the program's arguments inline. */
  List<String> command() throws LaunchException {
    return jobCommand().inline();
  }

  /**
   * The job's command: mpirun or srun and the rank JVM up to the bootstrap, then the program's
   * class and arguments.
   *
   * @param throughBootstrap the command up to and including the bootstrap class
   * @param mainClass the program's class
   * @param arguments the program's arguments
   */
  record JobCommand(List<String> throughBootstrap, String mainClass, List<String> arguments) {

    /**
     * Above this many bytes, the program's arguments go through a file: Open MPI passes the
     * ranks' whole command line to each rank in one environment variable, and Linux refuses a
     * single string over 128 KiB when it starts a process.
     */
    static final int MAX_INLINE_BYTES = 64 * 1024;

    List<String> inline() {
      List<String> command = new ArrayList<>(throughBootstrap);
      command.add(mainClass);
      command.addAll(arguments);
      return command;
    }

    long argumentBytes() {
      return bytes(arguments);
    }

    boolean argumentsTooLong() {
      return bytes(inline()) > MAX_INLINE_BYTES;
    }

    /**
     * The command that starts the job, up to the bootstrap: with the arguments file's name when
     * the arguments go through one.
     */
    List<String> start(Path argumentsFile) {
      if (argumentsFile == null) {
        return throughBootstrap;
      }
      List<String> command = new ArrayList<>(throughBootstrap);
      command.add(command.size() - 1, "-D" + ProgramArguments.FILE_PROPERTY + "=" + argumentsFile);
      return command;
    }

    private static long bytes(List<String> words) {
      return words.stream().mapToLong(word -> word.getBytes(StandardCharsets.UTF_8).length + 1L).sum();
    }
  }

  private JobCommand jobCommand() throws LaunchException {
    if (threadsPerRank != null && threadsPerRank < 1) {
      throw new LaunchException(LaunchException.USAGE, "--threads-per-rank must be at least 1, got " + threadsPerRank);
    }
    if (spawnHosts != null) {
      try {
        JobContext.hostList(List.of(spawnHosts.split(",", -1)), "--spawn-hosts");
      } catch (IllegalArgumentException e) {
        throw new LaunchException(LaunchException.USAGE, e.getMessage());
      }
    }
    if (ranks != null && ranks < 2) {
      throw new LaunchException(LaunchException.USAGE, "-n must be at least 2 (1 master + at least 1 worker), got " + ranks);
    }
    boolean inAllocation = isSet("SLURM_JOB_ID");
    Kind resolved = kind == Kind.auto
        ? (inAllocation && installation.executable("srun").isPresent() ? Kind.srun : Kind.mpirun)
        : kind;
    MpiBindings.Kind transportKind = transportKind();
    MpiInstallation.LaunchProgram program = launchProgram(transportKind, resolved == Kind.mpirun);
    RankMpi rankMpi = transportKind == MpiBindings.Kind.BINDINGS ? bindings(program) : foreign(program);
    choices = List.of(
        "launcher " + resolved + (kind != Kind.auto ? " (--launcher " + kind + ")"
            : resolved == Kind.srun ? " (auto: inside SLURM job " + installation.environment().get("SLURM_JOB_ID")
                + ", srun on PATH)"
            : inAllocation ? " (auto: inside SLURM job " + installation.environment().get("SLURM_JOB_ID")
                + ", but no srun on PATH)"
            : " (auto: not inside a SLURM allocation)"),
        "MPI " + rankMpi.family().title() + (program == null ? "" : " (" + program.executable() + ": " + program.version()
            + ")") + ", " + rankMpi.description(),
        "transport " + transportKind.name().toLowerCase(java.util.Locale.ROOT) + " (" + transportReason + ")");
    List<Path> runtimeJars = jars(installation.home().resolve("lib"));
    List<Path> programClasspath = new ArrayList<>(runtimeJars);
    programClasspath.addAll(userClasspath());
    programClasspath.addAll(jars(installation.home().resolve("examples")));
    ProgramCheck.check(mainClass, programClasspath);

    Integer rankCount = ranks != null ? ranks : inAllocation ? null : installation.cores() + 1;
    List<String> command = new ArrayList<>();
    if (!installation.environment().containsKey(UCX_SIGNALS)) {
      // UCX (under MPICH, and Open MPI's UCX layer) would handle SIGSEGV, which the JVM uses itself.
      command.addAll(List.of("env", UCX_SIGNALS + "="));
    }
    if (resolved == Kind.srun) {
      command.addAll(srunPrefix(inAllocation, rankCount, rankMpi.family()));
    } else {
      boolean openMpi = program.family() == MpiInstallation.Family.OPEN_MPI;
      command.addAll(openMpi ? mpirunPrefix(program.executable(), rankCount) : hydraPrefix(program.executable(), rankCount));
      command.addAll(hostOptions(openMpi));
      if (openMpi) {
        command.addAll(installation.openMpiDaemonKeepalive());
        command.addAll(singleHostTransportLayer(inAllocation));
      }
    }
    command.addAll(launcherOptions);
    List<String> rankJvm = rankJvm(rankMpi, runtimeJars,
        resolved != Kind.srun && program.family() == MpiInstallation.Family.OPEN_MPI);
    command.addAll(rankJvm);
    long rankCommandBytes = JobCommand.bytes(rankJvm);
    if (rankCommandBytes > JobCommand.MAX_INLINE_BYTES) {
      throw new LaunchException(LaunchException.USAGE, "the ranks' JVM command line would be " + rankCommandBytes
          + " bytes without the program's arguments, too long for MPI to start them (Linux takes at most 128 KiB):"
          + " shorten the classpath with dir/* entries, or the -J options");
    }
    return new JobCommand(command, mainClass, programArguments);
  }

  /** The transport of the ranks: --transport, else JMPIPOOL_TRANSPORT, else automatic by their Java. */
  private MpiBindings.Kind transportKind() throws LaunchException {
    String setting = transport != null ? transport : installation.environment().get(MpiBindings.TRANSPORT_VARIABLE);
    int java = installation.rankJavaVersion();
    try {
      MpiBindings.Kind resolved = MpiBindings.resolve(setting, java);
      transportReason = transport != null ? "--transport " + transport
          : setting != null && !setting.isBlank() ? MpiBindings.TRANSPORT_VARIABLE + "=" + setting
          : "auto: the ranks run Java " + java + (resolved == MpiBindings.Kind.FFM ? ", which has java.lang.foreign"
              : ", before java.lang.foreign (Java " + MpiBindings.FOREIGN_JAVA + ")");
      return resolved;
    } catch (IllegalArgumentException e) {
      throw new LaunchException(LaunchException.USAGE, e.getMessage());
    }
  }

  /**
   * The MPI launch program: --mpiexec, else one of the family --mpi names, else of the family the
   * transport needs (the bindings are Open MPI's), else the plain mpiexec's.
   *
   * @param needed whether the job is started by it (not srun): then it must exist
   * @return the program, or {@code null} under srun when there is none
   */
  private MpiInstallation.LaunchProgram launchProgram(MpiBindings.Kind transportKind, boolean needed)
      throws LaunchException {
    MpiInstallation.Family family = mpi == MpiChoice.openmpi ? MpiInstallation.Family.OPEN_MPI
        : mpi == MpiChoice.mpich ? MpiInstallation.Family.MPICH
        : transportKind == MpiBindings.Kind.BINDINGS ? MpiInstallation.Family.OPEN_MPI : null;
    if (mpiexec != null) {
      Path explicit = installation.executable(mpiexec).orElseThrow(() -> new LaunchException(
          LaunchException.ENVIRONMENT, "--mpiexec " + mpiexec + ": no such executable"));
      MpiInstallation.LaunchProgram program = installation.identify(explicit).orElseThrow(() -> new LaunchException(
          LaunchException.ENVIRONMENT, "--mpiexec " + explicit + " is not the launcher of a known MPI (Open MPI's mpirun,"
              + " or a Hydra mpiexec of the MPICH family)"));
      if (family != null && program.family() != family) {
        throw new LaunchException(LaunchException.USAGE, "--mpiexec " + explicit + " is " + program.family().title()
            + "'s, but " + family.title() + " is needed" + (mpi == MpiChoice.auto ? " by the bindings transport" : ""));
      }
      return program;
    }
    Optional<MpiInstallation.LaunchProgram> found = installation.launchProgram(family);
    if (found.isEmpty() && family == null) {
      found = installation.launchProgram(MpiInstallation.Family.OPEN_MPI)
          .or(() -> installation.launchProgram(MpiInstallation.Family.MPICH));
    }
    if (found.isEmpty() && needed) {
      throw new LaunchException(LaunchException.ENVIRONMENT, (family == null ? "no MPI launcher (mpirun, mpiexec)"
          : "no launcher of " + family.title() + " (" + (family == MpiInstallation.Family.OPEN_MPI ? "mpirun"
              : "Hydra's mpiexec") + ")") + " found on PATH: install " + (family == null ? "an MPI" : family.title())
          + " (" + installation.provisionScript() + " installs Open MPI), or name it with --mpiexec");
    }
    return found.orElse(null);
  }

  /** How ranks reach MPI, and what the launcher says of it. */
  private record RankMpi(MpiInstallation.Family family, String description, List<String> jvmOptions,
      List<String> classpath) {
  }

  /** Open MPI's Java bindings: their jar, of the installed version, and the directory of their native half. */
  private RankMpi bindings(MpiInstallation.LaunchProgram program) throws LaunchException {
    if (program == null) {
      throw new LaunchException(LaunchException.ENVIRONMENT, "the bindings transport needs Open MPI, and no Open MPI"
          + " launcher was found on PATH: install Open MPI, or run the ranks on Java " + MpiBindings.FOREIGN_JAVA + "+");
    }
    if (program.family() != MpiInstallation.Family.OPEN_MPI) {
      throw new LaunchException(LaunchException.ENVIRONMENT, "the bindings transport needs Open MPI, but "
          + program.executable() + " is " + program.family().title() + "'s: run the ranks on Java "
          + MpiBindings.FOREIGN_JAVA + "+ (the ffm transport), or use --mpi openmpi");
    }
    if (!MpiBindings.builtWithJavaBindings()) {
      throw new LaunchException(LaunchException.ENVIRONMENT, "the bindings transport needs Open MPI's Java bindings,"
          + " and this jmpipool was built without them (its build had no mpi.jar): run the ranks on Java "
          + MpiBindings.FOREIGN_JAVA + "+ with the ffm transport (JMPIPOOL_JAVA), or run packaging/provision-mpi.sh"
          + " and rebuild");
    }
    Path mpirun = program.executable();
    String version = installation.openMpiVersion(mpirun);
    Path jar = installation.bindingsJar(version, mpirun);
    List<String> options = new ArrayList<>(List.of("-D" + MpiBindings.TRANSPORT_PROPERTY + "=bindings"));
    installation.nativeLibraryDirectory(mpirun).ifPresent(dir -> options.add("-Djava.library.path=" + dir));
    return new RankMpi(program.family(), "Open MPI " + version + " through its Java bindings (" + jar + ")", options,
        List.of(jar.toString()));
  }

  /** The installed MPI library, checked in this JVM (the ranks' Java) before any rank starts. */
  private RankMpi foreign(MpiInstallation.LaunchProgram program) throws LaunchException {
    MpiInstallation.Family family = program != null ? program.family()
        : mpi == MpiChoice.openmpi ? MpiInstallation.Family.OPEN_MPI
        : mpi == MpiChoice.mpich ? MpiInstallation.Family.MPICH : null;
    Installation.Library library = installation.mpiLibrary(program, family);
    if (family != null && library.family() != family) {
      throw new LaunchException(LaunchException.ENVIRONMENT, (program != null ? program.executable() + " ("
          + family.title() + ")" : "--mpi " + mpi) + " cannot start ranks that load " + library.file() + ", a library of "
          + library.family().title() + " (" + library.version() + "): use --mpi " + library.family().optionName()
          + ", or set " + MpiInstallation.LIBRARY_VARIABLE + " to a library of " + family.title());
    }
    List<String> options = new ArrayList<>();
    MpiBindings.properties(MpiBindings.Kind.FFM, library.file())
        .forEach((name, value) -> options.add("-D" + name + "=" + value));
    options.sort(null);
    return new RankMpi(library.family(), library.version() + " (" + library.file() + ") through java.lang.foreign",
        options, List.of());
  }

  /**
   * Where the MPI launcher starts ranks, in its family's words: the host file, and the program it
   * starts its daemons on other hosts with.
   */
  private List<String> hostOptions(boolean openMpi) throws LaunchException {
    List<String> options = new ArrayList<>();
    if (hostfile != null) {
      if (!Files.isReadable(hostfile)) {
        throw new LaunchException(LaunchException.USAGE, "--hostfile " + hostfile + ": no such readable file");
      }
      options.addAll(List.of(openMpi ? "--hostfile" : "-f", hostfile.toAbsolutePath().toString()));
    }
    if (launchAgent != null) {
      options.addAll(openMpi ? List.of("--mca", "plm_rsh_agent", launchAgent)
          : List.of("-launcher", "rsh", "-launcher-exec", launchAgent));
    }
    return options;
  }

  private List<String> srunPrefix(boolean inAllocation, Integer rankCount, MpiInstallation.Family family)
      throws LaunchException {
    if (hostfile != null || launchAgent != null) {
      throw new LaunchException(LaunchException.USAGE, (hostfile != null ? "--hostfile" : "--launch-agent")
          + " is for mpirun and mpiexec; under srun, SLURM places the ranks (sbatch --nodes, --nodelist)");
    }
    Path srun = installation.executable("srun").orElseThrow(() -> new LaunchException(LaunchException.ENVIRONMENT,
        "--launcher srun: srun not found on PATH"));
    if (!inAllocation) {
      throw new LaunchException(LaunchException.USAGE, "--launcher srun works inside a SLURM allocation"
          + " (sbatch or salloc); SLURM_JOB_ID is not set");
    }
    String pmi = srunMpi != null ? srunMpi : installation.environment().getOrDefault("JMPIPOOL_SRUN_MPI",
        family == MpiInstallation.Family.MPICH ? "pmi2" : "pmix");
    if (pmi.isBlank()) {
      throw new LaunchException(LaunchException.USAGE, "--srun-mpi needs a PMI type, such as pmix");
    }
    List<String> prefix = new ArrayList<>(List.of(srun.toString(), "--mpi=" + pmi));
    if (rankCount != null) {
      prefix.add("--ntasks=" + rankCount);
    }
    return prefix;
  }

  private List<String> mpirunPrefix(Path mpirun, Integer rankCount) throws LaunchException {
    boolean rootAllowed = allowRunAsRoot
        || "1".equals(installation.environment().get("OMPI_ALLOW_RUN_AS_ROOT"))
        && "1".equals(installation.environment().get("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"));
    if (installation.runningAsRoot() && !rootAllowed) {
      throw new LaunchException(LaunchException.USAGE, "refusing to start MPI ranks as root: pass --allow-run-as-root"
          + " (or set OMPI_ALLOW_RUN_AS_ROOT=1 and OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1)");
    }
    List<String> prefix = new ArrayList<>(List.of(mpirun.toString()));
    if (rankCount != null) {
      prefix.add("-n");
      prefix.add(rankCount.toString());
    }
    prefix.add("--oversubscribe");
    if (noBindingGiven()) {
      // Each JVM runs several threads (GC, JIT, communication, tasks): pinning it to one core starves them.
      prefix.add("--bind-to");
      prefix.add("none");
    }
    // Local ranks inherit mpirun's environment; ranks on other nodes get what -x exports.
    prefix.add("-x");
    prefix.add(UCX_SIGNALS);
    if (allowRunAsRoot) {
      prefix.add("--allow-run-as-root");
      // The pools the program spawns on named hosts start an mpirun of their own.
      prefix.addAll(List.of("-x", "OMPI_ALLOW_RUN_AS_ROOT=1", "-x", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"));
    }
    return prefix;
  }

  /**
   * Open MPI's transport layer for a job that stays on this host, unless the user chose one: ob1,
   * over shared memory. Where UCX is installed, Open MPI's default layer is UCX's, whose start
   * probes devices for about 0.2 s per job (measured here: an MPI program of 3 ranks that only
   * starts and ends took 0.50 s, 0.30 s with ob1). A job that may reach other hosts (a host file,
   * a batch allocation, mpirun options about hosts) keeps the default: on InfiniBand, UCX is the
   * fast one. The ranks are told, so that the pools they start on other hosts do not inherit it.
   */
  private List<String> singleHostTransportLayer(boolean inAllocation) {
    boolean mayReachOtherHosts = inAllocation || hostfile != null || launchAgent != null
        || Stream.of("PBS_JOBID", "LSB_JOBID", "PE_HOSTFILE", "OMPI_MCA_orte_default_hostfile").anyMatch(this::isSet)
        || launcherOptions.stream().anyMatch(option -> option.contains("host") || option.equals("-H")
            || option.contains("machinefile") || option.contains("rankfile"));
    boolean chosen = isSet("OMPI_MCA_pml") || launcherOptions.stream().anyMatch(option -> option.contains("pml"));
    return mayReachOtherHosts || chosen ? List.of()
        : List.of("--mca", "pml", "ob1", "-x", MpiInstallation.SINGLE_HOST_PML_VARIABLE + "=ob1");
  }

  /**
   * The MPICH family's Hydra: it takes more ranks than cores without asking, has no root check,
   * and passes its whole environment to every rank.
   */
  private List<String> hydraPrefix(Path mpiexec, Integer rankCount) {
    List<String> prefix = new ArrayList<>(List.of(mpiexec.toString()));
    if (rankCount != null) {
      prefix.add("-n");
      prefix.add(rankCount.toString());
    }
    if (noBindingGiven()) {
      prefix.add("-bind-to");
      prefix.add("none");
    }
    return prefix;
  }

  private boolean noBindingGiven() {
    return launcherOptions.stream().noneMatch(option -> option.startsWith("--bind-to") || option.startsWith("-bind-to"));
  }

  /**
   * The command each rank runs, up to the bootstrap: the JVM with the runtime's options, its
   * class-data archive's, and the user's.
   *
   * @param runtimeJars jmpipool's jars, which the ranks' classpath names as {@code lib/*}
   * @param openMpiLaunch whether Open MPI's mpirun starts the ranks
   */
  private List<String> rankJvm(RankMpi rankMpi, List<Path> runtimeJars, boolean openMpiLaunch) {
    List<String> jvm = new ArrayList<>();
    if (openMpiLaunch) {
      // Open MPI's mpirun puts the current directory first on the classpath of a program named java:
      // its classes would then hide jmpipool's, and no class-data archive would fit.
      jvm.add("env");
    }
    String java = javaExecutable();
    jvm.add(java);
    List<String> runtimeOptions = new ArrayList<>(RankJvm.runtimeOptions(installation.rankJavaVersion(), jvmOptions));
    runtimeOptions.addAll(rankMpi.jvmOptions());
    jvm.addAll(runtimeOptions);
    String runtimeClasspath = runtimeClasspath(rankMpi.classpath());
    ClassDataArchive archives = ClassDataArchive.of(installation.environment());
    if (archives != null && !ClassDataArchive.userDecides(jvmOptions)) {
      List<Path> jars = new ArrayList<>(runtimeJars);
      rankMpi.classpath().forEach(entry -> jars.add(Path.of(entry)));
      jvm.addAll(archives.jvmOptions(java, runtimeOptions, runtimeClasspath, jars, !dryRun,
          verbose ? word -> spec.commandLine().getErr().println("jmpipool: " + word) : word -> { }));
    }
    if (verbose) {
      jvm.add("-Djmpipool.log.level=DEBUG");
    }
    if (threadsPerRank != null) {
      jvm.add("-D" + JobContext.THREADS_PROPERTY + "=" + threadsPerRank);
    }
    if (spawnHosts != null) {
      jvm.add("-D" + JobContext.SPAWN_HOSTS_PROPERTY + "=" + spawnHosts);
    }
    jvm.addAll(jvmOptions);
    jvm.add("-cp");
    jvm.add(rankClasspath(runtimeClasspath));
    jvm.add(BOOTSTRAP);
    return jvm;
  }

  /** The runtime's part of the ranks' classpath, first on it: jmpipool's jars, then the transport's. */
  private String runtimeClasspath(List<String> mpiEntries) {
    List<String> entries = new ArrayList<>();
    entries.add(installation.home().resolve("lib") + File.separator + "*");
    entries.addAll(mpiEntries);
    return String.join(File.pathSeparator, entries);
  }

  /** The ranks' classpath; a user's dir/* entry stays a wildcard, which the rank JVM expands itself. */
  private String rankClasspath(String runtimeClasspath) {
    List<String> entries = new ArrayList<>();
    entries.add(runtimeClasspath);
    for (String entry : userClasspathEntries()) {
      entries.add(entry.endsWith("*")
          ? absolute(entry.substring(0, entry.length() - 1)) + File.separator + "*"
          : absolute(entry).toString());
    }
    entries.add(installation.home().resolve("examples") + File.separator + "*");
    return String.join(File.pathSeparator, entries);
  }

  /** The user's classpath with its dir/* entries expanded into the jars they stand for. */
  private List<Path> userClasspath() throws LaunchException {
    List<Path> entries = new ArrayList<>();
    for (String entry : userClasspathEntries()) {
      if (entry.endsWith("*")) {
        entries.addAll(jars(Path.of(entry.substring(0, entry.length() - 1))));
      } else {
        entries.add(absolute(entry));
      }
    }
    return entries;
  }

  private List<String> userClasspathEntries() {
    String path = classpath != null ? classpath : installation.environment().getOrDefault("CLASSPATH", ".");
    return java.util.Arrays.stream(path.split(File.pathSeparator)).filter(entry -> !entry.isEmpty()).toList();
  }

  private static Path absolute(String entry) {
    return Path.of(entry.isEmpty() ? "." : entry).toAbsolutePath().normalize();
  }

  private static List<Path> jars(Path directory) throws LaunchException {
    List<Path> jars = new ArrayList<>();
    if (!Files.isDirectory(directory)) {
      return jars;
    }
    try (DirectoryStream<Path> stream = Files.newDirectoryStream(directory, "*.jar")) {
      stream.forEach(jar -> jars.add(jar.toAbsolutePath().normalize()));
    } catch (IOException e) {
      throw new LaunchException(LaunchException.ENVIRONMENT, "cannot list " + directory + ": " + e.getMessage());
    }
    jars.sort(null);
    return jars;
  }

  private String javaExecutable() {
    String explicit = installation.environment().get("JMPIPOOL_JAVA");
    if (explicit != null && !explicit.isEmpty()) {
      return explicit;
    }
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  private boolean isSet(String variable) {
    String value = installation.environment().get(variable);
    return value != null && !value.isEmpty();
  }

  /** Reads the version from the launcher jar's manifest. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String version = Launcher.class.getPackage().getImplementationVersion();
      return new String[] {"jmpipool " + (version == null ? "(development build)" : version),
          "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.home") + ")"};
    }
  }
}
