package org.jmpipool.it;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs a helper command of the tests (a cluster's script, a SLURM tool) within a bound. */
final class Script {

  private Script() {
  }

  /** How a command ended, and what it printed. */
  record Outcome(int status, String out, String err) {
  }

  static Outcome run(List<String> command, long seconds) throws IOException, InterruptedException {
    return run(command, Map.of(), seconds);
  }

  /**
   * Runs a command with extra environment; fails the test, after killing what it started, when
   * it has not ended within {@code seconds}.
   */
  static Outcome run(List<String> command, Map<String, String> environment, long seconds)
      throws IOException, InterruptedException {
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().putAll(environment);
    Path out = Files.createTempFile("jmpipool-script", ".out");
    Path err = Files.createTempFile("jmpipool-script", ".err");
    try {
      Process process = builder.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
      if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        fail(command + " did not end within " + seconds + " s; output: " + Files.readString(out) + Files.readString(err));
      }
      return new Outcome(process.exitValue(), Files.readString(out), Files.readString(err));
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }
}
