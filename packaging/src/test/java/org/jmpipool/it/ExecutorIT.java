package org.jmpipool.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** The executor on real MPI jobs of 2 to 4 ranks, more ranks than cores. */
@Timeout(120)
class ExecutorIT {

  static Stream<Arguments> configurationsAndRanks() {
    return Stream.of(Configuration.values()).flatMap(c -> Stream.of(Arguments.of(c, 2), Arguments.of(c, 4)));
  }

  @ParameterizedTest(name = "{0}, {1} ranks")
  @MethodSource("configurationsAndRanks")
  void theContractHoldsOnRealWorkers(Configuration configuration, int ranks) {
    Jobs.Result result = Jobs.program(configuration, ranks, Contract.class);
    assertEquals(0, result.status(), result.toString());
    assertTrue(result.out().contains("ALL PASSED"), result.toString());
    assertFalse(result.out().contains("FAIL "), result.toString());
  }

  @ParameterizedTest
  @EnumSource(Configuration.class)
  void thePoolsContractHoldsOnTheJobsRanks(Configuration configuration) {
    Jobs.Result result = Jobs.program(configuration, 3, PoolContract.class);
    assertEquals(0, result.status(), result.toString());
    assertTrue(result.out().contains("ALL PASSED"), result.toString());
    assertFalse(result.out().contains("FAIL "), result.toString());
  }

  @Test
  void threadsPerRankLetOneWorkerRankRunTasksAtOnce() {
    Jobs.Result result = Jobs.launch(java.util.Map.of(), List.of("-n", "2", "--threads-per-rank", "2",
        "-cp", Jobs.TEST_CLASSES, Programs.ThreadsPerRank.class.getName()));
    assertEquals(0, result.status(), result.toString());
    assertTrue(result.out().contains("each of 1 worker ranks ran 2 tasks at once on threads"), result.toString());
  }

  /**
   * A scheduler ends a job by signalling every process of it at once: the master cancels what
   * has not started, lets running tasks finish, stops the workers in order, says how it went,
   * and exits 128 + the signal's number.
   */
  static Stream<Arguments> configurationsAndSignals() {
    return Stream.of(Configuration.values())
        .flatMap(c -> Stream.of(Arguments.of(c, "TERM", 143), Arguments.of(c, "INT", 130)));
  }

  @ParameterizedTest(name = "{0}, SIG{1}")
  @MethodSource("configurationsAndSignals")
  void aSignalEndsTheJobInOrderWithASummary(Configuration configuration, String signal, int status) {
    Jobs.Result result = Jobs.programSignalled(configuration, 3, signal, "submitted 42 tasks",
        Programs.BusyUntilSignalled.class);
    assertEquals(status, result.status(), result.toString());
    assertTrue(result.err().contains("SIG" + signal + " received"), result.toString());
    assertTrue(result.err().matches("(?s).*SIG" + signal + " summary: 0 tasks done, 2 running when it came \\(2 finished in"
        + " time, 0 interrupted\\), 40 never started.*"), result.toString());
    assertTrue(result.out().contains("cancelled: the task never started: the job received SIG" + signal + " and is"
        + " ending"), result.toString());
    assertFalse(result.all().contains("unexpectedly"), result.toString());
  }

  /**
   * A signal that reaches one worker only (a user's kill, one node's scheduler) ends the job the
   * same way, within the grace period, instead of waiting for that worker to give up.
   */
  @ParameterizedTest
  @EnumSource(Configuration.class)
  void aSignalToOneWorkerEndsTheJobInOrderWithASummary(Configuration configuration) {
    Jobs.Result result = Jobs.programSignalled(configuration, 3, List.of("TERM"), rank -> rank == 1,
        "submitted 42 tasks", Programs.BusyUntilSignalled.class);
    assertEquals(143, result.status(), result.toString());
    assertTrue(result.err().contains("worker rank 1 received SIGTERM"), result.toString());
    assertTrue(result.err().matches("(?s).*SIGTERM summary: 0 tasks done, 2 running when it came \\(2 finished in"
        + " time, 0 interrupted\\), 40 never started.*"), result.toString());
    assertTrue(result.elapsed().toSeconds() < 25, "ended within the grace period: " + result);
  }

  /** However many signals come, to the master and relayed by workers, the job ends once, in order. */
  @ParameterizedTest
  @EnumSource(Configuration.class)
  void termAndIntTogetherEndTheJobOnce(Configuration configuration) {
    Jobs.Result result = Jobs.programSignalled(configuration, 3, List.of("TERM", "INT"), rank -> true,
        "submitted 42 tasks", Programs.BusyUntilSignalled.class);
    assertTrue(result.status() == 143 || result.status() == 130, result.toString());
    assertEquals(1, result.err().split("summary:", -1).length - 1, "one summary: " + result);
    assertTrue(result.err().contains("40 never started"), result.toString());
  }

  /**
   * A payload over 2 GiB (MPI counts are C ints, Java arrays end at 2 GiB) goes to a worker as a
   * task's argument and comes back as its result, in parts; afterwards, once unused for a second,
   * the native memory of the transfer is given back on every rank.
   */
  @Test
  @Timeout(300)
  void aPayloadOverTwoGibibytesRoundTripsAndItsMemoryComesBack() {
    // Huge pages for the heaps halve the cost of touching fresh memory here; the payload's path is the same.
    Jobs.Result result = Jobs.launch(java.util.Map.of(), List.of("-J-Xmx7g", "-J-XX:+UseTransparentHugePages", "-n", "3",
        "-cp", Jobs.TEST_CLASSES, Programs.HugePayload.class.getName(), "2304"), java.time.Duration.ofSeconds(240));
    assertEquals(0, result.status(), result.toString());
    assertTrue(result.out().contains("echoed 2304 MiB intact=true"), result.toString());
    Matcher held = Pattern.compile("native MiB rank (\\d+): (\\d+)").matcher(result.out());
    int ranks = 0;
    while (held.find()) {
      ranks++;
      assertTrue(Long.parseLong(held.group(2)) <= 160, "rank " + held.group(1) + " still holds " + held.group(2)
          + " MiB of native memory\n" + result);
    }
    assertEquals(3, ranks, result.toString());
  }

  @Test
  void aPayloadBeyondTheJvmsMemoryFailsWhenSubmittedInOneLine() {
    Jobs.Result result = Jobs.launch(java.util.Map.of(), List.of("-J-XX:MaxDirectMemorySize=48m", "-n", "2",
        "-cp", Jobs.TEST_CLASSES, Programs.PayloadBeyondMemory.class.getName()));
    assertEquals(0, result.status(), result.toString());
    assertTrue(result.out().contains("failed when submit returned: true"), result.toString());
    assertTrue(result.out().matches("(?s).*failure: org.jmpipool.TaskSerializationException: cannot serialize the task"
        + " \\(.*\\): this JVM has no memory left for its encoded form .*raise -Xmx.*"), result.toString());
    assertTrue(result.out().contains("then: 1048576"), "the pool goes on: " + result);
  }

  @Test
  void monteCarloPiRunsOnFourRanks() {
    Jobs.Result result = Jobs.launch(java.util.Map.of(), List.of("-n", "4", "org.jmpipool.examples.MonteCarloPi", "20000000"));
    assertEquals(0, result.status(), result.toString());
    Matcher estimate = Pattern.compile("pi ~ (3\\.\\d+) .* on 3 workers").matcher(result.out());
    assertTrue(estimate.find(), result.toString());
    assertEquals(Math.PI, Double.parseDouble(estimate.group(1)), 0.01);
  }

  @Test
  void theParameterSweepReportsItsGrid() {
    Jobs.Result result = Jobs.launch(java.util.Map.of(), List.of("-n", "3", "org.jmpipool.examples.ParameterSweep", "6"));
    assertEquals(0, result.status(), result.toString());
    assertTrue(result.out().contains("swept 36 points on 2 workers"), result.toString());
    assertEquals(5, result.out().lines().filter(line -> line.contains("largest angle")).count(), result.toString());
  }

  @Test
  void theWordCountAddsUpCountsFromEveryFile(@TempDir Path texts) throws IOException {
    Files.writeString(texts.resolve("a.txt"), "the cat and the hat\n");
    Files.createDirectory(texts.resolve("more"));
    Files.writeString(texts.resolve("more/b.txt"), "The end. THE END!\n");
    Files.writeString(texts.resolve("more/c.txt"), "cat\n");
    Jobs.Result result = Jobs.launch(java.util.Map.of(), List.of("-n", "3", "org.jmpipool.examples.WordCount", texts.toString()));
    assertEquals(0, result.status(), result.toString());
    assertTrue(result.out().contains("10 words (5 distinct) in 3 files, counted by 2 workers"), result.toString());
    assertTrue(result.out().matches("(?s).*\\n  the +4\\n  cat +2\\n  end +2\\n.*"), result.toString());
  }

  @Test
  void aPoolApplicationGetsThePoolAsAnArgument() {
    Jobs.Result result = Jobs.program(3, Programs.Application.class, "x", "y");
    assertEquals(0, result.status(), result.toString());
    assertTrue(result.out().contains("of 2 workers, args [x, y]"), result.toString());
  }

  @Test
  void idleRanksDoNotSpinACore() {
    Jobs.Result result = Jobs.program(3, Programs.Idle.class, "3000");
    assertEquals(0, result.status(), result.toString());
    Matcher line = Pattern.compile("idle_cpu_percent rank (\\d+) ([\\d.]+)").matcher(result.out());
    int ranks = 0;
    while (line.find()) {
      ranks++;
      assertTrue(Double.parseDouble(line.group(2)) < 20.0, "rank " + line.group(1) + " used " + line.group(2)
          + "% of a core while idle\n" + result);
    }
    assertEquals(3, ranks, result.toString());
  }
}
