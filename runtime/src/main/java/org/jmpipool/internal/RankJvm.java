package org.jmpipool.internal;

import java.util.ArrayList;
import java.util.List;
import org.jmpipool.internal.wire.Codec;

/**
 * The JVM options every rank needs, whoever starts it: the launcher (every rank of a job) or a
 * spawning master (its workers).
 */
public final class RankJvm {

  /** The main class of spawned workers. */
  public static final String SPAWNED_WORKER_MAIN = "org.jmpipool.internal.SpawnedWorker";

  private RankJvm() {
  }

  /**
   * Returns the runtime's options for a rank JVM, before the user's.
   *
   * @param javaFeatureVersion the feature version of the rank's JVM (17, 21, 25...)
   * @param userOptions the options the user adds, which may pick a garbage collector
   * @return the options
   */
  public static List<String> runtimeOptions(int javaFeatureVersion, List<String> userOptions) {
    List<String> options = new ArrayList<>(List.of(
        // Kryo rebuilds lambdas and JDK collections through reflection.
        "--add-opens", "java.base/java.lang.invoke=ALL-UNNAMED",
        "--add-opens", "java.base/java.lang=ALL-UNNAMED",
        "--add-opens", "java.base/java.util=ALL-UNNAMED",
        "--add-opens", "java.base/java.util.concurrent=ALL-UNNAMED",
        "--enable-native-access=ALL-UNNAMED"));
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
