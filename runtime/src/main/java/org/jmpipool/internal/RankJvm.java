package org.jmpipool.internal;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.jmpipool.internal.wire.Codec;

/**
 * The JVM options every rank needs, whoever starts it: the launcher (every rank of a job) or a
 * spawning master (its workers).
 *
 * <p>Threads: any (pure functions).
 */
public final class RankJvm {

  /** The main class of spawned workers. */
  public static final String SPAWNED_WORKER_MAIN = "org.jmpipool.internal.SpawnedWorker";

  /** What every rank needs, whatever its Java: module access for Kryo, native access for MPI. */
  private static final List<String> REQUIRED_OPTIONS = readRequiredOptions();

  private RankJvm() {
  }

  private static List<String> readRequiredOptions() {
    Properties properties = new Properties();
    try (InputStream in = RankJvm.class.getResourceAsStream("rank-jvm.properties")) {
      if (in == null) {
        throw new IllegalStateException("the runtime's jar lacks org/jmpipool/internal/rank-jvm.properties");
      }
      properties.load(in);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the runtime's rank-jvm.properties", e);
    }
    return List.of(properties.getProperty("options").trim().split("\\s+"));
  }

  /**
   * Returns the runtime's options for a rank JVM, before the user's.
   *
   * @param javaFeatureVersion the feature version of the rank's JVM (17, 21, 25...)
   * @param userOptions the options the user adds, which may pick a garbage collector
   * @return the options
   */
  public static List<String> runtimeOptions(int javaFeatureVersion, List<String> userOptions) {
    List<String> options = new ArrayList<>(REQUIRED_OPTIONS);
    if (javaFeatureVersion >= 23) {
      // Kryo's fastest field access uses sun.misc.Unsafe, which Java 24+ warns about unless allowed
      // (older JVMs reject the option); Codec turns it off elsewhere unless told it is allowed.
      options.add("--sun-misc-unsafe-memory-access=allow");
      options.add("-D" + Codec.KRYO_UNSAFE_PROPERTY + "=true");
    }
    if (userOptions.stream().noneMatch(option -> option.matches("-XX:\\+Use\\w*GC"))) {
      // Ranks usually outnumber cores: a collector without helper threads, and the smallest footprint.
      options.add("-XX:+UseSerialGC");
    }
    return options;
  }
}
