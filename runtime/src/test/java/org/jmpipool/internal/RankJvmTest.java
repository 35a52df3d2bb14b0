package org.jmpipool.internal;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The options of the JVMs that run tasks. */
class RankJvmTest {

  @Test
  void ranksGetTheOneListOfModuleAndNativeAccessOptionsThatTheTestJvmsGetToo() {
    List<String> ranks = RankJvm.runtimeOptions(17, List.of());
    List<String> required = List.of("--add-opens", "java.base/java.lang.invoke=ALL-UNNAMED", "--add-opens",
        "java.base/java.lang=ALL-UNNAMED", "--add-opens", "java.base/java.util=ALL-UNNAMED", "--add-opens",
        "java.base/java.util.concurrent=ALL-UNNAMED", "--enable-native-access=ALL-UNNAMED");
    assertTrue(Collections.indexOfSubList(ranks, required) == 0, ranks.toString());
    String thisJvm = String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments());
    // The JVM reports "--add-opens X" as "--add-opens=X".
    String expected = String.join(" ", required).replace("--add-opens ", "--add-opens=");
    assertTrue(thisJvm.contains(expected), "the build's jmpipool.jvm.opens: " + thisJvm);
  }

  @Test
  void theSerialCollectorUnlessTheUserPicksOneAndUnsafeAccessAllowedWhereJavaAsksForIt() {
    assertTrue(RankJvm.runtimeOptions(17, List.of()).contains("-XX:+UseSerialGC"));
    assertFalse(RankJvm.runtimeOptions(17, List.of("-XX:+UseParallelGC")).contains("-XX:+UseSerialGC"));
    assertFalse(RankJvm.runtimeOptions(17, List.of()).contains("--sun-misc-unsafe-memory-access=allow"));
    assertTrue(RankJvm.runtimeOptions(25, List.of()).contains("--sun-misc-unsafe-memory-access=allow"));
  }
}
