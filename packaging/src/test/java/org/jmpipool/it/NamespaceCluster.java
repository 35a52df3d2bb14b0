package org.jmpipool.it;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A cluster of nodes on this machine, each a network namespace with its own host name and
 * address (packaging/src/test/cluster/namespace-cluster.sh), for the tests of jobs spread over
 * several nodes. It is taken down when closed, and by a watchdog when this JVM ends however it
 * ends. Starting it needs root; without, the tests that need it are skipped with the reason,
 * except when {@code jmpipool.cluster.require} is true (the test command as root), where that fails.
 */
final class NamespaceCluster implements AutoCloseable {

  private static final Path SCRIPT = Jobs.HOME.resolve("packaging/src/test/cluster/namespace-cluster.sh");
  private static final boolean REQUIRED = Boolean.getBoolean("jmpipool.cluster.require");

  private final Path dir;
  private final List<String> nodes;
  /** The programs of daemons meant to stay on the nodes between jobs (SLURM's), by name. */
  private final Set<String> daemons = new HashSet<>();

  private NamespaceCluster(Path dir, List<String> nodes) {
    this.dir = dir;
    this.nodes = nodes;
  }

  /**
   * Starts a cluster of {@code count} nodes, named node1 to nodeN, recorded in a directory of its own.
   *
   * @throws org.opentest4j.TestAbortedException when it cannot start here and is not required
   */
  static NamespaceCluster start(int count) throws IOException, InterruptedException {
    Path dir = Files.createTempDirectory("jmpipool-cluster");
    Script.Outcome started = Script.run(List.of(SCRIPT.toString(), "start", dir.toString(), Integer.toString(count),
        Long.toString(ProcessHandle.current().pid())), 60);
    if (started.status() != 0) {
      // What it made before it failed goes now, not when this JVM ends.
      Script.run(List.of(SCRIPT.toString(), "stop", dir.toString()), 60);
      String why = "a cluster of network namespaces cannot start here: " + started.err().strip();
      if (REQUIRED) {
        fail(why);
      }
      assumeTrue(false, why);
    }
    NamespaceCluster cluster = new NamespaceCluster(dir, started.out().strip().lines().toList());
    Files.writeString(dir.resolve("hostfile.openmpi"), String.join("", cluster.nodes.stream()
        .map(node -> node + " slots=1\n").toList()), StandardCharsets.UTF_8);
    Files.writeString(dir.resolve("hostfile.hydra"), String.join("", cluster.nodes.stream()
        .map(node -> node + ":1\n").toList()), StandardCharsets.UTF_8);
    return cluster;
  }

  List<String> nodes() {
    return nodes;
  }

  /** The directory the cluster is recorded in, which every node sees. */
  Path directory() {
    return dir;
  }

  /** Lets daemons of these programs stay on the nodes (they are ended with the cluster). */
  void allowDaemons(String... programs) {
    daemons.addAll(List.of(programs));
  }

  /** The program that runs a command on a node, for the MPI launcher instead of ssh. */
  Path agent() {
    return dir.resolve("agent");
  }

  /** A host file of every node, one slot each, in a family's format. */
  Path hostfile(Configuration configuration) {
    return dir.resolve(configuration == Configuration.MPICH_FFM ? "hostfile.hydra" : "hostfile.openmpi");
  }

  /** The words that run a program on a node, its arguments following as they are. */
  List<String> on(String node) {
    return List.of(SCRIPT.toString(), "exec", dir.toString(), node);
  }

  /** Returns the processes on a node (besides the one that holds its namespaces). */
  List<String> processesOn(String node) throws IOException, InterruptedException {
    return Script.run(List.of(SCRIPT.toString(), "pids", dir.toString(), node), 10).out().strip().lines().toList();
  }

  /** Kills every process of a node at once, as a node that fails. */
  void kill(String node) throws IOException, InterruptedException {
    act("kill", node);
  }

  /** Cuts a node's link at the switch, as a failed cable or switch port. */
  void cut(String node) throws IOException, InterruptedException {
    act("cut", node);
  }

  /** Restores a node's link. */
  void reconnect(String node) throws IOException, InterruptedException {
    act("reconnect", node);
  }

  private void act(String action, String node) throws IOException, InterruptedException {
    Script.Outcome outcome = Script.run(List.of(SCRIPT.toString(), action, dir.toString(), node), 30);
    if (outcome.status() != 0) {
      fail(action + " " + node + ": " + outcome.err());
    }
  }

  /** Waits until no process is left on any node, and fails naming those that stay. */
  void expectNothingLeft(String after) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    List<String> left = new ArrayList<>();
    do {
      left.clear();
      for (String node : nodes) {
        for (String pid : processesOn(node)) {
          if (!daemons.contains(programOf(pid))) {
            left.add(node + ":" + pid + " " + commandOf(pid));
          }
        }
      }
      if (left.isEmpty()) {
        return;
      }
      Thread.sleep(250);
    } while (System.nanoTime() < deadline);
    fail("processes left on the nodes " + after + ": " + left);
  }

  private static String programOf(String pid) {
    try {
      return Files.readString(Path.of("/proc", pid, "comm")).strip();
    } catch (IOException e) {
      return "(gone)";
    }
  }

  private static String commandOf(String pid) {
    try {
      return Files.readString(Path.of("/proc", pid, "cmdline")).replace('\0', ' ').strip();
    } catch (IOException e) {
      return "(gone)";
    }
  }

  @Override
  public void close() throws IOException, InterruptedException {
    Script.Outcome stopped = Script.run(List.of(SCRIPT.toString(), "stop", dir.toString()), 60);
    if (stopped.status() != 0) {
      fail("stopping the cluster: " + stopped.err());
    }
    try (var files = Files.walk(dir)) {
      for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(file);
      }
    }
  }
}
