package org.jmpipool.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jmpipool.internal.transport.MpiInstallation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class LauncherTest {

  /** Programs the checks look at. */
  public static final class WithMain {
    public static void main(String[] args) {
    }
  }

  public static final class WithoutMain {
  }

  public static final class WithIntMain {
    public static int main(String[] args) {
      return 0;
    }
  }

  @TempDir
  Path home;

  /** The launcher's environment; UCX_ERROR_SIGNALS is set, as a user may, except where a test removes it. */
  private final Map<String, String> environment = new HashMap<>(Map.of(Launcher.UCX_SIGNALS, "SIGILL"));
  private boolean root;
  private int javaVersion = 17;

  /** An installation with mpirun, srun and bindings at fixed places, and nothing run for real. */
  private final class FakeInstallation extends Installation {
    FakeInstallation() {
      super(environment, home);
    }

    @Override
    Optional<Path> executable(String name) {
      return environment.containsKey("NO_" + name) ? Optional.empty() : Optional.of(Path.of("/opt/mpi/bin", name));
    }

    /** Open MPI's mpirun, unless NO_mpirun is set; Hydra, when HYDRA is. */
    @Override
    Optional<MpiInstallation.LaunchProgram> launchProgram(MpiInstallation.Family family) {
      MpiInstallation.LaunchProgram openMpi = new MpiInstallation.LaunchProgram(Path.of("/opt/mpi/bin/mpirun"),
          MpiInstallation.Family.OPEN_MPI, "mpirun (Open MPI) 4.1.4");
      MpiInstallation.LaunchProgram hydra = new MpiInstallation.LaunchProgram(Path.of("/opt/mpich/bin/mpiexec.hydra"),
          MpiInstallation.Family.MPICH, "Hydra 4.0.2");
      if (family != MpiInstallation.Family.MPICH && !environment.containsKey("NO_mpirun")) {
        return Optional.of(openMpi);
      }
      return family != MpiInstallation.Family.OPEN_MPI && environment.containsKey("HYDRA") ? Optional.of(hydra)
          : Optional.empty();
    }

    @Override
    Optional<MpiInstallation.LaunchProgram> identify(Path executable) {
      return executable.toString().contains("hydra") ? launchProgram(MpiInstallation.Family.MPICH)
          : executable.toString().contains("mpirun") ? launchProgram(MpiInstallation.Family.OPEN_MPI) : Optional.empty();
    }

    @Override
    Library mpiLibrary(MpiInstallation.LaunchProgram program, MpiInstallation.Family family) {
      return family == MpiInstallation.Family.MPICH
          ? new Library(Path.of("/opt/mpich/lib/libmpich.so.12"), family, "MPICH Version: 4.0.2")
          : new Library(Path.of("/opt/mpi/lib/libmpi.so.40"), MpiInstallation.Family.OPEN_MPI, "Open MPI v4.1.4");
    }

    @Override
    String openMpiVersion(Path mpirun) {
      return "4.1.4";
    }

    @Override
    Path bindingsJar(String version, Path mpirun) {
      return Path.of("/opt/mpi/lib/mpi.jar");
    }

    @Override
    Optional<Path> nativeLibraryDirectory(Path mpirun) {
      return Optional.of(Path.of("/opt/mpi/lib"));
    }

    @Override
    boolean runningAsRoot() {
      return root;
    }

    @Override
    int cores() {
      return 2;
    }

    @Override
    int rankJavaVersion() {
      return javaVersion;
    }
  }

  private record Outcome(int status, String out, String err) {
  }

  private Outcome run(String... args) {
    environment.putIfAbsent("CLASSPATH", System.getProperty("java.class.path"));
    CommandLine commandLine = Launcher.commandLine(new Launcher(new FakeInstallation()));
    StringWriter err = new StringWriter();
    commandLine.setErr(new PrintWriter(err));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrintStream previous = System.out;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      int status = commandLine.execute(args);
      return new Outcome(status, out.toString(StandardCharsets.UTF_8).strip(), err.toString().strip());
    } finally {
      System.setOut(previous);
    }
  }

  private List<String> command(String... args) throws Exception {
    environment.putIfAbsent("CLASSPATH", System.getProperty("java.class.path"));
    Launcher launcher = new Launcher(new FakeInstallation());
    Launcher.commandLine(launcher).parseArgs(args);
    return launcher.command();
  }

  @Test
  void dryRunPrintsTheMpirunCommand() throws Exception {
    Outcome outcome = run("--dry-run", "-n", "4", WithMain.class.getName(), "a", "b c");
    assertEquals(0, outcome.status(), outcome.err());
    assertTrue(outcome.out().startsWith("/opt/mpi/bin/mpirun -n 4 --oversubscribe --bind-to none "), outcome.out());
    assertTrue(outcome.out().endsWith(Launcher.BOOTSTRAP + " '" + WithMain.class.getName() + "' a 'b c'")
        || outcome.out().endsWith(Launcher.BOOTSTRAP + " " + WithMain.class.getName() + " a 'b c'"), outcome.out());
  }

  @Test
  void everythingAfterTheMainClassReachesTheProgramUnchanged() throws Exception {
    List<String> command = command("-n", "3", WithMain.class.getName(), "-n", "5", "--", "@args.txt", "--verbose", "-cp", "x");
    int main = command.indexOf(WithMain.class.getName());
    assertEquals(List.of("-n", "5", "--", "@args.txt", "--verbose", "-cp", "x"), command.subList(main + 1, command.size()));
    assertEquals("3", command.get(command.indexOf("-n") + 1));
  }

  @Test
  void aDoubleDashBeforeTheMainClassEndsTheLaunchersOptions() throws Exception {
    List<String> command = command("-n", "2", "--", WithMain.class.getName(), "--dry-run");
    assertEquals("--dry-run", command.get(command.size() - 1));
  }

  @Test
  void jvmAndMpirunOptionsGoWhereTheyBelong() throws Exception {
    List<String> command = command("-n", "2", "-J-Xmx2g", "--jvm-opt", "-Dx=1", "--mpirun-opt=--report-bindings",
        "--mpirun-opt", "--bind-to=core", WithMain.class.getName());
    int java = command.indexOf(System.getProperty("java.home") + "/bin/java");
    assertTrue(java > 0, command.toString());
    List<String> mpirunPart = command.subList(0, java);
    List<String> javaPart = command.subList(java, command.size());
    assertTrue(mpirunPart.containsAll(List.of("--report-bindings", "--bind-to=core")));
    assertFalse(mpirunPart.contains("none"), "the user's binding replaces the default");
    assertTrue(javaPart.containsAll(List.of("-Xmx2g", "-Dx=1", "--enable-native-access=ALL-UNNAMED",
        "-Djava.library.path=/opt/mpi/lib", "-XX:+UseSerialGC")));
    String classpath = javaPart.get(javaPart.indexOf("-cp") + 1);
    assertTrue(classpath.contains("/opt/mpi/lib/mpi.jar"), classpath);
  }

  @Test
  void threadsPerRankReachEveryRankAndMustBePositive() throws Exception {
    assertTrue(command("-n", "2", "--threads-per-rank", "8", WithMain.class.getName()).contains("-Djmpipool.threads=8"));
    assertFalse(command("-n", "2", WithMain.class.getName()).stream().anyMatch(arg -> arg.startsWith("-Djmpipool.threads")));
    Outcome zero = run("--threads-per-rank", "0", "-n", "2", WithMain.class.getName());
    assertEquals(2, zero.status(), zero.err());
    assertTrue(zero.err().contains("--threads-per-rank must be at least 1, got 0"), zero.err());
  }

  @Test
  void spawnHostsReachEveryRankAsThePropertyAndMustBeHostNames() throws Exception {
    assertTrue(command("-n", "2", "--spawn-hosts", "node2,node3", WithMain.class.getName())
        .contains("-Djmpipool.spawn.hosts=node2,node3"));
    assertFalse(command("-n", "2", WithMain.class.getName()).stream()
        .anyMatch(arg -> arg.startsWith("-Djmpipool.spawn.hosts")));
    for (String bad : List.of("", "node2,,node3", "node2:4", "node2,")) {
      Outcome refused = run("--spawn-hosts", bad, "-n", "2", WithMain.class.getName());
      assertEquals(LaunchException.USAGE, refused.status(), bad);
      assertTrue(refused.err().startsWith("jmpipool: --spawn-hosts"), refused.err());
      assertEquals(1, refused.err().lines().count(), refused.err());
    }
  }

  @Test
  void javaTwentyThreeAndLaterGetTheUnsafeAccessOptionAndOlderOnesDoNot() throws Exception {
    assertFalse(command("-n", "2", WithMain.class.getName()).contains("--sun-misc-unsafe-memory-access=allow"));
    javaVersion = 25;
    assertTrue(command("-n", "2", WithMain.class.getName()).contains("--sun-misc-unsafe-memory-access=allow"));
  }

  @Test
  void aChosenCollectorReplacesTheDefaultOne() throws Exception {
    List<String> command = command("-n", "2", "-J-XX:+UseG1GC", WithMain.class.getName());
    assertFalse(command.contains("-XX:+UseSerialGC"));
  }

  @Test
  void theDefaultRankCountIsCoresPlusOneOutsideSlurmAndTheAllocationInside() throws Exception {
    List<String> command = command(WithMain.class.getName());
    assertEquals("3", command.get(command.indexOf("-n") + 1));
    environment.put("SLURM_JOB_ID", "12");
    command = command("--launcher", "mpirun", WithMain.class.getName());
    assertFalse(command.contains("-n"), command.toString());
  }

  /** Open MPI's shared-memory layer for a job on this host only, and only unless the user chose. */
  @Test
  void aJobOnThisHostAloneGetsOpenMpisSharedMemoryLayer(@TempDir Path directory) throws Exception {
    List<String> oneHost = List.of("--mca", "pml", "ob1", "-x", MpiInstallation.SINGLE_HOST_PML_VARIABLE + "=ob1");
    assertTrue(Collections.indexOfSubList(command("-n", "3", WithMain.class.getName()), oneHost) > 0);
    Path hosts = Files.writeString(directory.resolve("hosts"), "node2 slots=2\n");
    assertFalse(command("-n", "3", "--hostfile", hosts.toString(), WithMain.class.getName()).contains("pml"));
    assertFalse(command("-n", "3", "--mpirun-opt=--host=node2:2", WithMain.class.getName()).contains("pml"));
    assertFalse(command("-n", "3", "--mpirun-opt=--mca", "--mpirun-opt=pml", "--mpirun-opt=ucx", WithMain.class.getName())
        .contains("ob1"));
    environment.put("OMPI_MCA_pml", "ucx");
    assertFalse(command("-n", "3", WithMain.class.getName()).contains("pml"));
    environment.remove("OMPI_MCA_pml");
    environment.put("SLURM_JOB_ID", "12");
    assertFalse(command("--launcher", "mpirun", WithMain.class.getName()).contains("pml"));
  }

  @Test
  void dryRunSaysWhichLauncherAutoPickedAndWhy() throws Exception {
    Outcome outside = run("--dry-run", "-n", "2", WithMain.class.getName());
    assertTrue(outside.err().contains("launcher mpirun (auto: not inside a SLURM allocation)"), outside.err());
    environment.put("SLURM_JOB_ID", "12");
    Outcome inside = run("--dry-run", WithMain.class.getName());
    assertTrue(inside.err().contains("launcher srun (auto: inside SLURM job 12, srun on PATH)"), inside.err());
    assertTrue(inside.out().startsWith("/opt/mpi/bin/srun --mpi=pmix "), inside.out());
    Outcome chosen = run("--dry-run", "--launcher", "mpirun", WithMain.class.getName());
    assertTrue(chosen.err().contains("launcher mpirun (--launcher mpirun)"), chosen.err());
  }

  @Test
  void thePmiFlavourOfSrunIsConfigurable() throws Exception {
    environment.put("SLURM_JOB_ID", "12");
    assertEquals("--mpi=pmix_v4", command("--srun-mpi", "pmix_v4", WithMain.class.getName()).get(1));
    environment.put("JMPIPOOL_SRUN_MPI", "pmi2");
    assertEquals("--mpi=pmi2", command(WithMain.class.getName()).get(1));
    assertEquals("--mpi=pmix", command("--srun-mpi", "pmix", WithMain.class.getName()).get(1));
  }

  @Test
  void srunIsChosenInsideAnAllocationAndRefusedOutside() throws Exception {
    Outcome outside = run("--launcher", "srun", "-n", "2", WithMain.class.getName());
    assertEquals(LaunchException.USAGE, outside.status());
    assertTrue(outside.err().startsWith("jmpipool: --launcher srun works inside a SLURM allocation"), outside.err());
    environment.put("SLURM_JOB_ID", "12");
    List<String> command = command("-n", "3", WithMain.class.getName());
    assertEquals(List.of("/opt/mpi/bin/srun", "--mpi=pmix", "--ntasks=3"), command.subList(0, 3));
  }

  @Test
  void rootNeedsToBeAllowed() throws Exception {
    root = true;
    Outcome refused = run("-n", "2", WithMain.class.getName());
    assertEquals(LaunchException.USAGE, refused.status());
    assertTrue(refused.err().contains("--allow-run-as-root"), refused.err());
    List<String> allowed = command("--allow-run-as-root", "-n", "2", WithMain.class.getName());
    assertTrue(allowed.contains("--allow-run-as-root"), allowed.toString());
    assertTrue(allowed.contains("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"), "the program's own mpirun (pools on named hosts): "
        + allowed);
    environment.put("OMPI_ALLOW_RUN_AS_ROOT", "1");
    environment.put("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
    assertEquals(0, run("--dry-run", "-n", "2", WithMain.class.getName()).status());
  }

  @Test
  void unusableRequestsEndWithOneLineAndTheirStatus() {
    Outcome unknown = run("-n", "2", "com.example.DoesNotExist");
    assertEquals(LaunchException.USAGE, unknown.status());
    assertTrue(unknown.err().startsWith("jmpipool: class com.example.DoesNotExist not found on the classpath"), unknown.err());
    assertEquals(1, unknown.err().lines().count());

    Outcome noMain = run("-n", "2", WithoutMain.class.getName());
    assertEquals(LaunchException.USAGE, noMain.status());
    assertTrue(noMain.err().contains("has no public static void main(String[])"), noMain.err());

    Outcome tooFew = run("-n", "1", WithMain.class.getName());
    assertEquals(LaunchException.USAGE, tooFew.status());
    assertTrue(tooFew.err().contains("-n must be at least 2"), tooFew.err());

    environment.put("NO_mpirun", "");
    Outcome noMpirun = run("-n", "2", WithMain.class.getName());
    assertEquals(LaunchException.ENVIRONMENT, noMpirun.status());
    assertTrue(noMpirun.err().startsWith("jmpipool: no launcher of Open MPI (mpirun) found on PATH"), noMpirun.err());

    Outcome badOption = run("--no-such-option", WithMain.class.getName());
    assertEquals(2, badOption.status());
    Outcome noClass = run("-n", "2");
    assertEquals(2, noClass.status());
  }

  /**
   * bin/jmpipool appends the program's class and arguments itself, from its own arguments: the
   * command file says how many of those were the launcher's, and holds the command up to the
   * bootstrap.
   */
  @Test
  void theCommandFileSaysWhereTheProgramsArgumentsStartAndHoldsTheQuotedCommand() throws Exception {
    Path file = Files.createTempFile(home, "command", ".sh");
    environment.put("JMPIPOOL_COMMAND_FILE", file.toString());
    assertEquals(0, run("-n", "2", "-J-Da=it's", "--", WithMain.class.getName(), "b c", "x").status());
    List<String> lines = Files.readAllLines(file);
    assertEquals("4", lines.get(0), "launcher arguments before the class");
    assertEquals("", lines.get(1), "no arguments file");
    assertTrue(lines.get(2).contains(" '-Da=it'\\''s' "), lines.get(2));
    assertTrue(lines.get(2).endsWith(" " + Launcher.BOOTSTRAP), lines.get(2));
  }

  @Test
  void argumentsTooLongForTheCommandLineGoThroughAFile() throws Exception {
    Path file = Files.createTempFile(home, "command", ".sh");
    environment.put("JMPIPOOL_COMMAND_FILE", file.toString());
    environment.put("TMPDIR", home.toString());
    String[] args = new String[2 + 2000];
    args[0] = WithMain.class.getName();
    args[1] = "first";
    java.util.Arrays.fill(args, 2, args.length, "x".repeat(40));
    assertEquals(0, run(args).status());
    List<String> lines = Files.readAllLines(file);
    assertEquals("0", lines.get(0));
    Path arguments = Path.of(lines.get(1));
    assertTrue(arguments.startsWith(home) && Files.exists(arguments), "an arguments file in TMPDIR: " + lines.get(1));
    assertTrue(lines.get(2).endsWith(" -Djmpipool.argumentsFile=" + arguments + " " + Launcher.BOOTSTRAP), lines.get(2));
    assertFalse(lines.get(2).contains("first"), "the arguments are not on the command line");
  }

  @Test
  void aMainThatReturnsAValueIsRefusedAsJavaRefusesIt() {
    Outcome outcome = run("-n", "2", WithIntMain.class.getName());
    assertEquals(LaunchException.USAGE, outcome.status());
    assertTrue(outcome.err().contains("has no public static void main(String[])"), outcome.err());
  }

  @Test
  void theTransportFollowsTheRanksJavaAndCanBeChosen() throws Exception {
    List<String> bindings = command("-n", "2", WithMain.class.getName());
    assertTrue(bindings.contains("-Djmpipool.transport=bindings"), bindings.toString());
    assertTrue(bindings.get(bindings.indexOf("-cp") + 1).contains("/opt/mpi/lib/mpi.jar"), bindings.toString());
    javaVersion = 25;
    List<String> foreign = command("-n", "2", WithMain.class.getName());
    assertTrue(foreign.containsAll(List.of("-Djmpipool.transport=ffm", "-Djmpipool.libmpi=/opt/mpi/lib/libmpi.so.40")),
        foreign.toString());
    assertFalse(foreign.get(foreign.indexOf("-cp") + 1).contains("mpi.jar"), "no bindings on the ffm transport");
    assertTrue(command("--transport", "bindings", "-n", "2", WithMain.class.getName())
        .contains("-Djmpipool.transport=bindings"));
    javaVersion = 17;
    Outcome tooOld = run("--transport", "ffm", "-n", "2", WithMain.class.getName());
    assertEquals(LaunchException.USAGE, tooOld.status());
    assertTrue(tooOld.err().contains("needs Java 22 or later, and this is Java 17"), tooOld.err());
  }

  /** Hydra takes more ranks than cores and root without asking, and passes its environment on. */
  @Test
  void hydraStartsTheRanksOfTheMpichFamily() throws Exception {
    environment.put("HYDRA", "");
    javaVersion = 25;
    root = true;
    List<String> command = command("--mpi", "mpich", "-n", "3", WithMain.class.getName());
    assertEquals(List.of("/opt/mpich/bin/mpiexec.hydra", "-n", "3", "-bind-to", "none"), command.subList(0, 5));
    assertTrue(command.contains("-Djmpipool.libmpi=/opt/mpich/lib/libmpich.so.12"), command.toString());
    assertFalse(command.contains("--oversubscribe"), command.toString());
    Outcome bindingsOnMpich = run("--mpi", "mpich", "--transport", "bindings", "-n", "2", WithMain.class.getName());
    assertEquals(LaunchException.ENVIRONMENT, bindingsOnMpich.status());
    assertTrue(bindingsOnMpich.err().contains("the bindings transport needs Open MPI"), bindingsOnMpich.err());
    environment.put("SLURM_JOB_ID", "12");
    assertEquals("--mpi=pmi2", command("--mpi", "mpich", WithMain.class.getName()).get(1), "srun's PMI for MPICH");
  }

  /** Several nodes: a host file and a remote-start agent, in each family's words; SLURM places ranks itself. */
  @Test
  void hostFilesAndLaunchAgentsReachEachFamilysLauncherInItsOwnWords() throws Exception {
    Path hosts = Files.writeString(home.resolve("hosts"), "node1 slots=1\nnode2 slots=2\n");
    List<String> openMpi = command("-n", "3", "--hostfile", hosts.toString(), "--launch-agent", "/opt/agent",
        WithMain.class.getName());
    int java = openMpi.indexOf(System.getProperty("java.home") + "/bin/java");
    assertTrue(Collections.indexOfSubList(openMpi.subList(0, java), List.of("--hostfile", hosts.toString())) > 0, openMpi.toString());
    assertTrue(Collections.indexOfSubList(openMpi.subList(0, java), List.of("--mca", "plm_rsh_agent", "/opt/agent")) > 0,
        openMpi.toString());
    // mpirun notices a node cut off from it by keepalive probes; a setting of the user's stays.
    assertTrue(Collections.indexOfSubList(openMpi.subList(0, java), List.of("--mca", "oob_tcp_keepalive_time", "2")) > 0,
        openMpi.toString());
    environment.put("OMPI_MCA_oob_tcp_keepalive_time", "60");
    assertFalse(command("-n", "3", WithMain.class.getName()).contains("oob_tcp_keepalive_time"));
    environment.remove("OMPI_MCA_oob_tcp_keepalive_time");
    environment.put("HYDRA", "");
    javaVersion = 25;
    List<String> hydra = command("--mpi", "mpich", "-n", "3", "--hostfile", hosts.toString(), "--launch-agent",
        "/opt/agent", WithMain.class.getName());
    assertTrue(Collections.indexOfSubList(hydra, List.of("-f", hosts.toString())) > 0, hydra.toString());
    assertTrue(Collections.indexOfSubList(hydra, List.of("-launcher", "rsh", "-launcher-exec", "/opt/agent")) > 0,
        hydra.toString());
    Outcome missing = run("-n", "3", "--hostfile", home.resolve("nowhere").toString(), WithMain.class.getName());
    assertEquals(LaunchException.USAGE, missing.status(), missing.err());
    assertTrue(missing.err().contains("--hostfile " + home.resolve("nowhere") + ": no such readable file"), missing.err());
    environment.put("SLURM_JOB_ID", "12");
    Outcome underSrun = run("--hostfile", hosts.toString(), WithMain.class.getName());
    assertEquals(LaunchException.USAGE, underSrun.status(), underSrun.err());
    assertTrue(underSrun.err().contains("under srun, SLURM places the ranks"), underSrun.err());
  }

  @Test
  void anMpiexecNamedExplicitlyIsUsedAndItsFamilyChecked() throws Exception {
    environment.put("HYDRA", "");
    javaVersion = 25;
    assertEquals("/opt/mpich/bin/mpiexec.hydra",
        command("--mpiexec", "/opt/mpich/bin/mpiexec.hydra", "-n", "2", WithMain.class.getName()).get(0));
    Outcome mismatch = run("--mpi", "openmpi", "--mpiexec", "/opt/mpich/bin/mpiexec.hydra", "-n", "2",
        WithMain.class.getName());
    assertEquals(LaunchException.USAGE, mismatch.status(), mismatch.err());
    assertTrue(mismatch.err().contains("is MPICH's, but Open MPI is needed"), mismatch.err());
  }

  @Test
  void everyRankGetsUcxSignalsEmptyUnlessTheUserSetIt() throws Exception {
    assertNotEquals("env", command("-n", "2", WithMain.class.getName()).get(0), "the user's setting stays");
    environment.remove(Launcher.UCX_SIGNALS);
    List<String> command = command("-n", "2", WithMain.class.getName());
    assertEquals(List.of("env", Launcher.UCX_SIGNALS + "=", "/opt/mpi/bin/mpirun"), command.subList(0, 3));
    assertEquals(Launcher.UCX_SIGNALS, command.get(command.indexOf("-x") + 1), "exported to ranks on other nodes");
  }

  @Test
  void dryRunSaysWhichMpiLibraryAndTransport() {
    javaVersion = 25;
    Outcome outcome = run("--dry-run", "-n", "2", WithMain.class.getName());
    assertTrue(outcome.err().contains("jmpipool: MPI Open MPI (/opt/mpi/bin/mpirun: mpirun (Open MPI) 4.1.4), Open MPI"
        + " v4.1.4 (/opt/mpi/lib/libmpi.so.40) through java.lang.foreign"), outcome.err());
    assertTrue(outcome.err().contains("jmpipool: transport ffm (auto: the ranks run Java 25, which has java.lang.foreign)"),
        outcome.err());
  }

  @Test
  void helpAndVersionWork() {
    Outcome help = run("--help");
    assertEquals(0, help.status());
    Outcome version = run("-V");
    assertEquals(0, version.status());
  }

  @Test
  void shellQuotingRoundTripsAwkwardWords() {
    assertEquals("plain-word_1.2/x:y=z,@%+", Shell.quote("plain-word_1.2/x:y=z,@%+"));
    assertEquals("''", Shell.quote(""));
    assertEquals("'a b'", Shell.quote("a b"));
    assertEquals("'$HOME'", Shell.quote("$HOME"));
    assertEquals("'it'\\''s'", Shell.quote("it's"));
    assertEquals("'*'", Shell.quote("*"));
  }
}
