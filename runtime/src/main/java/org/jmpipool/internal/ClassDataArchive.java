package org.jmpipool.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Class-data archives the JVMs of ranks and of spawned workers start from: the classes such a
 * JVM loads, already parsed and verified, mapped from a file (a rank JVM then starts about 0.45 s
 * sooner per job here). One archive per Java, runtime options and runtime classpath (jmpipool's
 * jars and the bindings', or the leading jars of a spawning JVM's classpath), kept in a cache
 * directory and made the first time a JVM needs it, by a training JVM ({@link ClassDataTraining})
 * run with {@code -XX:ArchiveClassesAtExit}. An archive that no longer fits (another Java at the
 * same path, a jar changed) is ignored by the JVM, silently; its name changes with what it depends
 * on, so a new one is made.
 *
 * <p>{@code JMPIPOOL_CDS=off} turns archives off; {@code JMPIPOOL_CDS_DIR} names the directory
 * (default {@code $XDG_CACHE_HOME/jmpipool/cds}, else {@code ~/.cache/jmpipool/cds}), which the
 * JVMs on other nodes must see at the same path to use it (a JVM that does not find it starts as
 * without). {@code bin/jmpipool} keeps the launcher's own archive there too.
 *
 * <p>Threads: any; one training at a time per JVM.
 */
public final class ClassDataArchive {

  static final String SWITCH_VARIABLE = "JMPIPOOL_CDS";
  static final String DIRECTORY_VARIABLE = "JMPIPOOL_CDS_DIR";
  /** Trainings of one JVM write to the same partial file, and each makes what the others would. */
  private static final Object TRAINING = new Object();
  /** An archive that does not fit is ignored without a word: the job runs as without one. */
  private static final List<String> QUIET = List.of("-Xlog:cds=off", "-Xlog:cds+dynamic=off");
  /** A training takes 1-2 s; one that takes far longer only delays the first job, which then starts without. */
  private static final long TRAINING_TIMEOUT_SECONDS = 20;
  /** A training that failed is not tried again for this long (a read-only cache, a JVM without CDS). */
  private static final Duration RETRY_AFTER_FAILURE = Duration.ofDays(1);
  /** Archives (and marks of failed trainings) no job used for this long are deleted when a new one is made. */
  private static final Duration KEEP_UNUSED = Duration.ofDays(30);

  private final Path directory;

  private ClassDataArchive(Path directory) {
    this.directory = directory;
  }

  /**
   * Returns the archives of this environment, or {@code null} when they are turned off or there
   * is no home for them.
   */
  public static ClassDataArchive of(Map<String, String> environment) {
    if ("off".equalsIgnoreCase(environment.getOrDefault(SWITCH_VARIABLE, ""))) {
      return null;
    }
    String named = environment.get(DIRECTORY_VARIABLE);
    if (named != null && !named.isEmpty()) {
      return new ClassDataArchive(Path.of(named));
    }
    String cache = environment.get("XDG_CACHE_HOME");
    if (cache != null && !cache.isEmpty()) {
      return new ClassDataArchive(Path.of(cache, "jmpipool", "cds"));
    }
    String home = environment.get("HOME");
    return home == null || home.isEmpty() ? null : new ClassDataArchive(Path.of(home, ".cache", "jmpipool", "cds"));
  }

  /** Whether a user's JVM options take class-data sharing in hand themselves. */
  public static boolean userDecides(List<String> userOptions) {
    return userOptions.stream().anyMatch(option -> option.startsWith("-Xshare")
        || option.contains("SharedArchiveFile") || option.contains("ArchiveClassesAtExit")
        || option.contains("UseSharedSpaces"));
  }

  /**
   * Returns the options that start a rank's or a worker's JVM from its archive, made first when
   * it is missing and {@code make} says so; none when there is no archive to use.
   *
   * @param java the JVM's java executable
   * @param runtimeOptions the runtime's and the transport's JVM options (not the user's)
   * @param classpath the start of the JVM's classpath the archive holds (the runtime's jars),
   *     as the JVM gets it
   * @param jars the files that classpath stands for
   * @param make whether to make a missing archive now (not for a dry run)
   * @param say where a word on the making goes (--verbose, a debug log), or nowhere
   */
  public List<String> jvmOptions(String java, List<String> runtimeOptions, String classpath, List<Path> jars,
      boolean make, Consumer<String> say) {
    Path archive;
    try {
      archive = directory.resolve("rank-" + key(java, runtimeOptions, classpath, jars) + ".jsa");
    } catch (IOException e) {
      say.accept("no class-data archive: " + e.getMessage());
      return List.of();
    }
    synchronized (TRAINING) {
      if (Files.isRegularFile(archive)) {
        markUsed(archive);
      } else if (!make || !train(java, runtimeOptions, classpath, archive, say)) {
        return List.of();
      }
    }
    List<String> options = new ArrayList<>(QUIET);
    options.add("-XX:SharedArchiveFile=" + archive);
    return options;
  }

  /** What the archive depends on, hashed: the Java (its binary and its class library), options and jars. */
  private static String key(String java, List<String> runtimeOptions, String classpath, List<Path> jars)
      throws IOException {
    Path javaBinary = Path.of(java).toRealPath();
    List<String> parts = new ArrayList<>(List.of(javaBinary.toString(), classpath));
    Path modules = javaBinary.getParent().getParent().resolve("lib").resolve("modules");
    for (Path file : Stream.concat(Stream.of(javaBinary, modules), jars.stream()).toList()) {
      if (Files.exists(file)) {
        parts.add(file + " " + Files.size(file) + " " + Files.getLastModifiedTime(file).toMillis());
      }
    }
    parts.addAll(runtimeOptions);
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(String.join("\n", parts)
          .getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 10);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java has SHA-256", e);
    }
  }

  /** Makes the archive with a training JVM; whether it was made. */
  private boolean train(String java, List<String> runtimeOptions, String classpath, Path archive,
      Consumer<String> say) {
    Path failed = archive.resolveSibling(archive.getFileName() + ".failed");
    Path partial = archive.resolveSibling(archive.getFileName() + "." + ProcessHandle.current().pid());
    try {
      if (Files.exists(failed)
          && Files.getLastModifiedTime(failed).toInstant().isAfter(Instant.now().minus(RETRY_AFTER_FAILURE))) {
        return false;
      }
      Files.createDirectories(directory);
      deleteUnused();
      List<String> command = new ArrayList<>(List.of(java, "-XX:ArchiveClassesAtExit=" + partial));
      command.addAll(QUIET);
      command.addAll(runtimeOptions);
      command.addAll(List.of("-cp", classpath, ClassDataTraining.class.getName()));
      Path output = Files.createTempFile("jmpipool-cds", ".out");
      try {
        Process training = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile())
            .start();
        training.getOutputStream().close();
        boolean ended = training.waitFor(TRAINING_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        if (!ended) {
          training.destroyForcibly().waitFor();
        }
        if (ended && training.exitValue() == 0 && Files.isRegularFile(partial)) {
          Files.move(partial, archive, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
          say.accept("made the class-data archive " + archive);
          return true;
        }
        say.accept("could not make the class-data archive (" + (ended ? "exit " + training.exitValue()
            : "not done in " + TRAINING_TIMEOUT_SECONDS + " s") + "); the JVMs start without: "
            + Files.readString(output, StandardCharsets.ISO_8859_1).strip());
        Files.writeString(failed, "");
        return false;
      } finally {
        Files.deleteIfExists(output);
        Files.deleteIfExists(partial);
      }
    } catch (IOException e) {
      say.accept("could not make the class-data archive in " + directory + ": " + e.getMessage());
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** An archive in use keeps its place: its time says when a job last used it. */
  private static void markUsed(Path archive) {
    try {
      Files.setLastModifiedTime(archive, FileTime.from(Instant.now()));
    } catch (IOException e) {
      // Another user's archive, read-only: it is still used, only never counted as fresh.
    }
  }

  private void deleteUnused() throws IOException {
    Instant oldest = Instant.now().minus(KEEP_UNUSED);
    try (Stream<Path> files = Files.list(directory)) {
      for (Path file : files.toList()) {
        String name = file.getFileName().toString();
        if ((name.startsWith("rank-") || name.startsWith("launcher-")) && name.contains(".jsa")
            && Files.getLastModifiedTime(file).toInstant().isBefore(oldest)) {
          Files.deleteIfExists(file);
        }
      }
    }
  }
}
