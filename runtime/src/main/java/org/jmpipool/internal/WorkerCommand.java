package org.jmpipool.internal;

import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemNotFoundException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.jmpipool.PoolStartException;
import org.jmpipool.internal.transport.MpiBindings;
import org.jmpipool.internal.transport.Transport;
import org.jmpipool.internal.transport.TransportException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The command that starts a spawned worker: this JVM's Java, the runtime's rank options, the
 * options of this JVM that decide what code may do (module access, assertions, preview
 * features), those of a class-data archive when one fits, the chosen system properties, this
 * JVM's classpath, and the worker main class.
 *
 * <p>Threads: the thread that starts a spawned pool.
 */
final class WorkerCommand {

  private static final Logger LOG = LoggerFactory.getLogger(WorkerCommand.class);

  /** Options of this JVM that workers need to run the same code the same way. */
  private static final List<String> INHERITED_OPTION_PREFIXES = List.of("--add-opens=", "--add-exports=",
      "--add-reads=", "--add-modules=", "--enable-native-access=", "--enable-preview", "-ea", "-da", "-esa",
      "-dsa", "-enableassertions", "-disableassertions", "-enablesystemassertions", "-disablesystemassertions");
  private static final Set<List<String>> CHECKED = ConcurrentHashMap.newKeySet();
  private static final String UCX_SIGNALS = "UCX_ERROR_SIGNALS";

  private final List<String> environment;
  private final List<String> jvm;
  private final Path workingDirectory;

  private WorkerCommand(List<String> environment, List<String> jvm, Path workingDirectory) {
    this.environment = environment;
    this.jvm = jvm;
    this.workingDirectory = workingDirectory;
  }

  /**
   * Makes the command of a pool's workers.
   *
   * @throws TransportException when this JVM's transport cannot be used (the ffm transport before
   *     Java 22, or no MPI library found)
   */
  static WorkerCommand of(SpawnSettings settings) {
    if (MpiBindings.chosen() == MpiBindings.Kind.FFM) {
      MpiBindings.pinnedLibrary();
    }
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> runtimeOptions = new ArrayList<>(RankJvm.runtimeOptions(Runtime.version().feature(),
        settings.jvmOptions()));
    for (String option : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (INHERITED_OPTION_PREFIXES.stream().anyMatch(option::startsWith) && !runtimeOptions.contains(option)) {
        runtimeOptions.add(option);
      }
    }
    String classpath = classpath();
    List<String> jvm = new ArrayList<>(List.of(java));
    jvm.addAll(runtimeOptions);
    jvm.addAll(archiveOptions(java, runtimeOptions, classpath, settings.jvmOptions()));
    properties(settings).forEach((name, value) -> jvm.add("-D" + name + "=" + value));
    jvm.addAll(settings.jvmOptions());
    jvm.add("-cp");
    jvm.add(classpath);
    jvm.add(RankJvm.SPAWNED_WORKER_MAIN);
    List<String> environment = new ArrayList<>();
    settings.environment().forEach((name, value) -> environment.add(name + "=" + value));
    if (!settings.environment().containsKey(UCX_SIGNALS) && System.getenv(UCX_SIGNALS) == null) {
      // UCX would handle SIGSEGV, which the JVM uses itself; a worker on the Java bindings cannot
      // unset it, since the library loads with them.
      environment.add(UCX_SIGNALS + "=");
    }
    return new WorkerCommand(environment, jvm, settings.workingDirectory());
  }

  private static Map<String, String> properties(SpawnSettings settings) {
    Map<String, String> properties = new LinkedHashMap<>();
    System.getProperties().stringPropertyNames().stream().filter(name -> name.startsWith("jmpipool."))
        .sorted().forEach(name -> properties.put(name, System.getProperty(name)));
    properties.put("java.library.path", System.getProperty("java.library.path"));
    // Without a logging provider every worker would repeat SLF4J's warning; this JVM shows it once.
    properties.put("slf4j.internal.verbosity", System.getProperty("slf4j.internal.verbosity", "ERROR"));
    for (String name : settings.inheritedProperties()) {
      String value = System.getProperty(name);
      if (value != null) {
        properties.put(name, value);
      }
    }
    properties.putAll(settings.systemProperties());
    properties.put(SpawnedWorker.PARENT_PID_PROPERTY, Long.toString(ProcessHandle.current().pid()));
    properties.put(SpawnedWorker.PARENT_HOST_PROPERTY, Transport.localHostName());
    return properties;
  }

  /**
   * The options that start the workers from a class-data archive of the jars that lead their
   * classpath, when jmpipool's runtime is among them (an archive holds classes of jars only, and
   * fits a JVM whose classpath starts as the training's did): made by the first pool that needs
   * it, before its start timeout runs, then kept for every later one, in this JVM and the next.
   * None when archives are off, the user's options decide, or no archive fits this classpath (one
   * that starts with a directory of classes, as a build tool's test classpath does).
   */
  private static List<String> archiveOptions(String java, List<String> runtimeOptions, String classpath,
      List<String> userOptions) {
    ClassDataArchive archives = ClassDataArchive.of(System.getenv());
    if (archives == null || ClassDataArchive.userDecides(userOptions)) {
      return List.of();
    }
    List<String> leadingJars = new ArrayList<>();
    List<Path> files = new ArrayList<>();
    for (String entry : classpath.split(File.pathSeparator, -1)) {
      Path file = regularFile(entry);
      if (file == null) {
        break;
      }
      leadingJars.add(entry);
      files.add(file);
    }
    if (!files.contains(runtimeJar())) {
      return List.of();
    }
    List<String> trainingOptions = new ArrayList<>(runtimeOptions);
    MpiBindings.Kind transport = MpiBindings.chosen();
    MpiBindings.properties(transport, transport == MpiBindings.Kind.FFM ? MpiBindings.pinnedLibrary() : null)
        .forEach((name, value) -> trainingOptions.add("-D" + name + "=" + value));
    return archives.jvmOptions(java, trainingOptions, String.join(File.pathSeparator, leadingJars), files, true,
        LOG::debug);
  }

  /**
   * The file a classpath entry names, or {@code null} when it names none (a directory, nothing,
   * a string that is no path here): the JVM skips such an entry, and an archive ends before it.
   */
  private static Path regularFile(String entry) {
    if (entry.isEmpty()) {
      return null;
    }
    try {
      Path file = Path.of(entry).toAbsolutePath().normalize();
      return Files.isRegularFile(file) ? file : null;
    } catch (InvalidPathException e) {
      return null;
    }
  }

  /** The jar this runtime was loaded from, or {@code null} when its classes come from a directory. */
  private static Path runtimeJar() {
    CodeSource source = WorkerCommand.class.getProtectionDomain().getCodeSource();
    if (source == null) {
      return null;
    }
    try {
      Path location = Path.of(source.getLocation().toURI());
      return Files.isRegularFile(location) ? location.toAbsolutePath().normalize() : null;
    } catch (URISyntaxException | IllegalArgumentException | FileSystemNotFoundException e) {
      // Inside another archive (a fat jar's nested jar): no archive can hold such classes.
      return null;
    }
  }

  /** This JVM's classpath; a module path is added to it (the worker runs everything unnamed). */
  private static String classpath() {
    String classpath = System.getProperty("java.class.path", "");
    String modulePath = System.getProperty("jdk.module.path");
    if (modulePath == null || modulePath.isEmpty()) {
      return classpath;
    }
    return classpath.isEmpty() ? modulePath : classpath + File.pathSeparator + modulePath;
  }

  /** The program MPI starts: the JVM, or {@code env} when environment variables are set for it. */
  String executable() {
    return environment.isEmpty() ? jvm.get(0) : "env";
  }

  /** The program's arguments. */
  List<String> arguments() {
    List<String> arguments = new ArrayList<>(environment);
    arguments.addAll(environment.isEmpty() ? jvm.subList(1, jvm.size()) : jvm);
    return arguments;
  }

  /**
   * The command every rank of the MPI job of a pool on other hosts runs: the worker's, which
   * relays on rank 0 and serves tasks elsewhere; the relay's socket follows it.
   */
  List<String> relayedJob() {
    List<String> command = new ArrayList<>(List.of(executable()));
    command.addAll(arguments());
    command.add(SpawnedWorker.RELAY_OPTION);
    return command;
  }

  Path workingDirectory() {
    return workingDirectory;
  }

  /**
   * Starts the worker JVM once with {@code --check}, outside MPI: MPI itself waits forever for a
   * worker whose JVM does not start (bad option, wrong classpath), so those are found here, with
   * the JVM's own message. A command (with its environment and directory) that passed once is
   * not checked again.
   *
   * @throws PoolStartException when the worker JVM does not start or cannot load the bindings
   */
  void check(long timeoutNanos) {
    List<String> key = new ArrayList<>(environment);
    key.add(workingDirectory.toString());
    key.addAll(jvm);
    if (CHECKED.contains(key)) {
      return;
    }
    List<String> command = new ArrayList<>(jvm);
    command.add("--check");
    ProcessBuilder builder = new ProcessBuilder(command).directory(workingDirectory.toFile()).redirectErrorStream(true);
    for (String assignment : environment) {
      int equals = assignment.indexOf('=');
      builder.environment().put(assignment.substring(0, equals), assignment.substring(equals + 1));
    }
    Path output = null;
    try {
      output = Files.createTempFile("jmpipool-worker-check", ".txt");
      builder.redirectOutput(output.toFile());
      Process process = builder.start();
      if (!process.waitFor(timeoutNanos, TimeUnit.NANOSECONDS)) {
        process.destroyForcibly();
        throw new PoolStartException("the worker JVM did not start within the start timeout: " + String.join(" ", command));
      }
      String text = Files.readString(output, StandardCharsets.UTF_8).strip();
      if (process.exitValue() != 0 || !text.contains(SpawnedWorker.READY)) {
        throw new PoolStartException("the worker JVM cannot start (status " + process.exitValue() + "): "
            + text.replace('\n', ' ') + "; command: " + String.join(" ", command));
      }
    } catch (IOException e) {
      throw new PoolStartException("cannot start the worker JVM " + jvm.get(0) + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new PoolStartException("interrupted while checking the worker JVM", e);
    } finally {
      if (output != null) {
        try {
          Files.deleteIfExists(output);
        } catch (IOException ignored) {
          // A leftover temporary file is harmless.
        }
      }
    }
    CHECKED.add(List.copyOf(key));
  }
}
