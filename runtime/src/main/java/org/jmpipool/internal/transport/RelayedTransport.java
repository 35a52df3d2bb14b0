package org.jmpipool.internal.transport;

import java.io.BufferedReader;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.StandardProtocolFamily;
import java.net.UnknownHostException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The master's transport of a pool on other hosts: the workers are an MPI job of their own,
 * started by this JVM with the MPI family's launch program ({@code mpirun}, Hydra's
 * {@code mpiexec}), whose rank 0 runs on this host and relays between this JVM, over a local
 * socket, and the workers, over MPI ({@link RelayLink}).
 *
 * <p>Why not MPI's spawn, as for workers on this host: Open MPI's runtime ends the spawning
 * process itself when a node of its spawned workers is lost. Here a lost node ends the workers'
 * job only; this JVM sees it end, breaks the pool, and can start another on the remaining hosts.
 * This JVM does not use MPI at all for such a pool.
 *
 * <p>Ranks: this JVM is rank 0 to the pool, the relay's place; the workers keep their ranks in
 * the job, placed in turn on the hosts, each host getting an equal share (the first ones one more
 * when the count does not divide).
 *
 * <p>Threads: the pool's communication thread makes every call but {@link #abort}, {@link #lostPeer}
 * and {@link #heardFrom}, which any thread may make; a thread copies the launch program's error
 * output to this JVM's.
 */
public final class RelayedTransport implements Transport {

  /** How many lines of the launch program's error output a message about the job's end may quote from. */
  private static final int KEPT_ERROR_LINES = 40;
  /** How many of them a message quotes when none names a host. */
  private static final int QUOTED_LINES = 12;
  /** How long the launch program gets to end the job after SIGTERM before it and the local ranks are killed. */
  private static final long TERMINATE_GRACE_MILLIS = 3_000;
  /** How long an orderly end may take beyond the heartbeats' own bound (the relay waits for its workers' last ones). */
  private static final long FINISH_MARGIN_MILLIS = 15_000;

  /** How Open MPI ("process rank 2") and Hydra ("RANK 2 PID ...") name a failed rank. */
  private static final Pattern NAMED_RANK = Pattern.compile("(?i)\\brank (\\d+)\\b");
  private static final List<String> RANK_VARIABLE_PREFIXES = List.of("PMIX_", "PMI_", "MPI_LOCAL", "OMPI_COMM_WORLD_",
      "OMPI_MCA_orte_", "OMPI_MCA_ess", "OMPI_MCA_pmix");
  private static final Set<String> RANK_VARIABLES = Set.of("OMPI_APP_CTX_NUM_PROCS", "OMPI_ARGV", "OMPI_COMMAND",
      "OMPI_FILE_LOCATION", "OMPI_FIRST_RANKS", "OMPI_NUM_APP_CTX", "OMPI_UNIVERSE_SIZE", "OMPI_MCA_initial_wdir",
      "OMPI_MCA_shmem_RUNTIME_QUERY_hint");

  private final Process job;
  private final Path directory;
  private final FramedSocket socket;
  private final int size;
  private final String host = Transport.localHostName();
  private final List<String> rankHosts;
  private final String launchProgram;
  private final ArrayDeque<String> errorLines;
  private final CompletableFuture<Void> errorsCopied;
  /** Messages of channels other than the one being received when they arrived. */
  private final Map<Integer, ArrayDeque<Waiting>> waiting = new HashMap<>();
  private ByteBuffer receiveBuffer = NativeMemory.allocate(64 * 1024);
  /** The buffer the handler gave for the message being read, if it gave one: the handler's, not to be freed. */
  private ByteBuffer handlersBuffer;
  private volatile LostPeer lostPeer;
  private volatile boolean finishing;

  /**
   * A transport over a relay that has greeted; the job's end, unless ordered, counts as a loss.
   *
   * @param rankHosts the host of each rank, this one's first
   * @param errorLines the launch program's last lines of error output, as they come
   * @param errorsCopied completes when its error output ended
   */
  RelayedTransport(Process job, Path directory, FramedSocket socket, int size, List<String> rankHosts,
      String launchProgram, ArrayDeque<String> errorLines, CompletableFuture<Void> errorsCopied) {
    this.job = job;
    this.directory = directory;
    this.socket = socket;
    this.size = size;
    this.rankHosts = rankHosts;
    this.launchProgram = launchProgram;
    this.errorLines = errorLines;
    this.errorsCopied = errorsCopied;
    job.onExit().thenRunAsync(this::jobEnded);
  }

  /**
   * Starts the workers' job and waits until its relay has connected.
   *
   * @param command the program every rank of the job runs, with its arguments; the relay's socket
   *     is appended as the last argument (rank 0 relays to it, the others serve tasks)
   * @param workers how many workers
   * @param hosts where they run, at least one
   * @param workingDirectory their working directory
   * @param timeout how long the job may take to start
   * @return the transport; this JVM is rank 0, the workers 1 to {@code workers}
   * @throws TransportException when the job cannot be started in time, saying why
   */
  public static RelayedTransport launch(List<String> command, int workers, List<String> hosts, String workingDirectory,
      Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    // A bad setting of the heartbeats, which every rank reads, fails here in one line, before any starts.
    Heartbeats.configuredTimeoutNanos();
    MpiInstallation installation = new MpiInstallation(System.getenv());
    MpiInstallation.Family family = MpiBindings.load().family();
    MpiInstallation.LaunchProgram program = installation.launchProgram(family).orElseThrow(() ->
        new TransportException("a pool on other hosts starts its workers with " + family.title()
            + "'s launch program (mpirun or mpiexec), and none is on PATH"));
    Map<String, Integer> placement = placement(workers, hosts);
    List<String> rankHosts = new ArrayList<>();
    placement.forEach((name, count) -> rankHosts.addAll(Collections.nCopies(count, name)));
    Path directory = null;
    ServerSocketChannel server = null;
    Process job = null;
    try {
      directory = Files.createTempDirectory("jmpipool-pool");
      Path socketPath = directory.resolve("relay");
      server = ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(UnixDomainSocketAddress.of(socketPath));
      server.configureBlocking(false);
      List<String> launch = launchCommand(program, installation, placement, workingDirectory);
      launch.addAll(command);
      launch.add(socketPath.toString());
      ProcessBuilder builder = new ProcessBuilder(launch).redirectOutput(ProcessBuilder.Redirect.INHERIT);
      withoutRankVariables(builder.environment());
      job = builder.start();
      ArrayDeque<String> errorLines = new ArrayDeque<>();
      CompletableFuture<Void> errorsCopied = copyErrors(job, errorLines);
      String programName = program.executable().getFileName().toString();
      SocketChannel relay = acceptRelay(server, job, deadline, programName, errorLines, errorsCopied);
      FramedSocket socket = new FramedSocket(relay);
      int size = hello(socket, job, deadline, programName);
      return new RelayedTransport(job, directory, socket, size, List.copyOf(rankHosts), programName, errorLines,
          errorsCopied);
    } catch (IOException | RuntimeException e) {
      if (job != null) {
        terminate(job);
      }
      deleteDirectory(directory);
      if (e instanceof TransportException failure) {
        throw failure;
      }
      throw new TransportException("cannot start the workers' MPI job: " + e.getMessage(), e);
    } finally {
      // Only the relay's socket was wanted; nothing else may connect.
      close(server);
    }
  }

  /**
   * The host of each rank of the job, in order: this host (the relay) first, then each host's
   * share of the workers. This host in the list takes its share next to the relay, as MPI would
   * merge the two.
   */
  static Map<String, Integer> placement(int workers, List<String> hosts) {
    String local = Transport.localHostName();
    Map<String, Integer> slots = new LinkedHashMap<>();
    slots.put(local, 1);
    for (int i = 0; i < hosts.size(); i++) {
      int share = workers / hosts.size() + (i < workers % hosts.size() ? 1 : 0);
      String name = hosts.get(i).equals("localhost") ? local : hosts.get(i);
      if (share > 0) {
        slots.merge(name, share, Integer::sum);
      }
    }
    return slots;
  }

  /**
   * Removes from the environment of a pool's launch program what only this process's own job
   * meant: the variables that make a process a rank ({@link #isRankVariable}), and the transport
   * layer the launcher chose for a job on one host.
   */
  static void withoutRankVariables(Map<String, String> environment) {
    environment.keySet().removeIf(RelayedTransport::isRankVariable);
    if (environment.remove(MpiInstallation.SINGLE_HOST_PML_VARIABLE) != null) {
      environment.remove("OMPI_MCA_pml");
    }
  }

  /**
   * Tells the variables by which an MPI runtime tells a process that it is one of its ranks: in
   * the environment of a launched job's rank, they would make the launch program refuse to run
   * ({@code mpirun} "does not support recursive calls"). The launch program starts from the
   * environment the JVM started with (Java's), so what an MPI singleton set since is not there.
   */
  static boolean isRankVariable(String name) {
    return RANK_VARIABLE_PREFIXES.stream().anyMatch(name::startsWith) || RANK_VARIABLES.contains(name);
  }

  /**
   * One job of {@code 1 + workers} ranks over a host list with slots, mapped in order, so that
   * rank 0 is on this host. Workers usually outnumber cores, and each JVM runs several threads:
   * no pinning.
   */
  private static List<String> launchCommand(MpiInstallation.LaunchProgram program, MpiInstallation installation,
      Map<String, Integer> placement, String workingDirectory) {
    StringBuilder hostList = new StringBuilder();
    int ranks = 0;
    for (Map.Entry<String, Integer> entry : placement.entrySet()) {
      hostList.append(hostList.length() == 0 ? "" : ",").append(entry.getKey()).append(':').append(entry.getValue());
      ranks += entry.getValue();
    }
    List<String> launch = new ArrayList<>(List.of(program.executable().toString()));
    if (program.family() == MpiInstallation.Family.OPEN_MPI) {
      launch.addAll(List.of("--host", hostList.toString(), "--map-by", "slot", "--bind-to", "none", "--wdir",
          workingDirectory));
      launch.addAll(installation.openMpiDaemonKeepalive());
      launch.addAll(List.of("-np", Integer.toString(ranks)));
    } else {
      launch.addAll(List.of("-hosts", hostList.toString(), "-wdir", workingDirectory, "-n", Integer.toString(ranks)));
    }
    return launch;
  }

  /** Copies the launch program's error output to this JVM's, keeping its last lines for messages. */
  private static CompletableFuture<Void> copyErrors(Process job, ArrayDeque<String> kept) {
    return CompletableFuture.runAsync(() -> {
      try (BufferedReader reader = new BufferedReader(new InputStreamReader(job.getErrorStream(),
          StandardCharsets.UTF_8))) {
        String line;
        while ((line = reader.readLine()) != null) {
          System.err.println(line);
          synchronized (kept) {
            kept.add(line);
            if (kept.size() > KEPT_ERROR_LINES) {
              kept.poll();
            }
          }
        }
      } catch (IOException e) {
        // The pipe closed with the job: its output has ended.
      }
    }, runnable -> {
      Thread copier = new Thread(runnable, "jmpipool-pool-job-errors");
      copier.setDaemon(true);
      copier.start();
    });
  }

  private static SocketChannel acceptRelay(ServerSocketChannel server, Process job, long deadline, String programName,
      ArrayDeque<String> errorLines, CompletableFuture<Void> errorsCopied) throws IOException {
    while (true) {
      SocketChannel relay = server.accept();
      if (relay != null) {
        return relay;
      }
      if (!job.isAlive()) {
        errorsCopied.completeOnTimeout(null, 2, TimeUnit.SECONDS).join();
        throw new TransportException(programName + " ended with status " + job.exitValue()
            + " before the workers started" + quote(errorLines, true));
      }
      if (System.nanoTime() > deadline) {
        throw new TransportException("the workers' MPI job did not start in time" + quote(errorLines, true));
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
    }
  }

  private static int hello(FramedSocket socket, Process job, long deadline, String programName) throws IOException {
    while (true) {
      FramedSocket.Frame frame;
      try {
        frame = socket.poll((peer, channel, length) -> ByteBuffer.allocate(length));
      } catch (EOFException e) {
        throw new TransportException("the relay of the workers' job (" + programName + ") went away before greeting");
      }
      if (frame != null) {
        if (frame.channel != FramedSocket.CONTROL || frame.peer != FramedSocket.HELLO) {
          throw new TransportException("the relay of the workers' job sent " + frame.peer + " first, not its greeting");
        }
        return frame.body.getInt(0);
      }
      if (System.nanoTime() > deadline || !job.isAlive()) {
        throw new TransportException("the workers' MPI job did not start in time");
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
    }
  }

  /**
   * The job ended on its own: a worker or node failed and the launch program ended the job, or
   * the relay ended. The message quotes what the launch program said about the failed worker
   * ({@link #culprit}), and names it.
   */
  private void jobEnded() {
    if (finishing || lostPeer != null) {
      return;
    }
    errorsCopied.completeOnTimeout(null, 2, TimeUnit.SECONDS).join();
    List<String> lines;
    synchronized (errorLines) {
      lines = List.copyOf(errorLines);
    }
    Culprit culprit = culprit(lines, rankHosts, host);
    String worker = culprit == null ? "" : "worker rank " + culprit.rank() + " on " + rankHosts.get(culprit.rank()) + ": ";
    lostPeer = new LostPeer(culprit == null ? -1 : culprit.rank(), worker + "the MPI job of the pool's workers ended ("
        + launchProgram + " exited with status " + job.exitValue()
        + (culprit == null ? quote(errorLines, false) : "; it said: \"" + culprit.line() + "\"") + ")");
  }

  /** A worker the launch program's output blames, and the line that does. */
  record Culprit(int rank, String line) {
  }

  /**
   * Finds the worker a launch program's error output blames: the first line naming a worker's
   * rank ({@code process rank 2}, Hydra's {@code RANK 2}), else the first naming a host of the
   * workers other than this one, by name or address, other than as the reporting one
   * ({@code Local host:}); the first worker on that host then.
   *
   * @param rankHosts the host of each rank, this one's first
   * @return the worker, or {@code null} when no line names one
   */
  static Culprit culprit(List<String> lines, List<String> rankHosts, String localHost) {
    for (String line : lines) {
      Matcher rank = NAMED_RANK.matcher(line);
      while (rank.find()) {
        int named = Integer.parseInt(rank.group(1));
        if (named >= 1 && named < rankHosts.size()) {
          return new Culprit(named, line.strip());
        }
      }
    }
    Map<Integer, Pattern> mentions = new LinkedHashMap<>();
    for (int rank = 1; rank < rankHosts.size(); rank++) {
      String name = rankHosts.get(rank);
      if (!name.equals(localHost) && rank == rankHosts.indexOf(name)) {
        mentions.put(rank, Pattern.compile("\\b(" + Pattern.quote(name) + address(name) + ")\\b"));
      }
    }
    for (String line : lines) {
      String text = line.strip();
      if (text.startsWith("Local host:")) {
        continue;
      }
      for (Map.Entry<Integer, Pattern> mention : mentions.entrySet()) {
        if (mention.getValue().matcher(text).find()) {
          return new Culprit(mention.getKey(), text);
        }
      }
    }
    return null;
  }

  /** The alternative of a host's address in a pattern, where it resolves (MPI's messages often give addresses). */
  private static String address(String name) {
    try {
      return "|" + Pattern.quote(InetAddress.getByName(name).getHostAddress());
    } catch (UnknownHostException e) {
      return "";
    }
  }

  /**
   * Some lines of the launch program's error output, without its frames and blank lines, for a
   * message: the first ones when the job did not start (the cause comes first, then advice), the
   * last ones when it ended.
   */
  private static String quote(ArrayDeque<String> lines, boolean first) {
    List<String> words;
    synchronized (lines) {
      words = lines.stream().map(String::strip).filter(line -> !line.isEmpty() && !line.matches("-+")).toList();
    }
    int count = Math.min(QUOTED_LINES, words.size());
    return words.isEmpty() ? "" : "; it said: " + String.join(" ", first ? words.subList(0, count)
        : words.subList(words.size() - count, words.size()));
  }

  @Override
  public int rank() {
    return 0;
  }

  @Override
  public int size() {
    return size;
  }

  @Override
  public String host() {
    return host;
  }

  @Override
  public PendingSend send(int destination, int channel, ByteBuffer message, int length) {
    try {
      return socket.send(destination, channel, message, length);
    } catch (IOException e) {
      relayGone(e);
      return () -> true;
    }
  }

  @Override
  public boolean receive(int channel, MessageHandler handler) {
    ArrayDeque<Waiting> queued = waiting.get(channel);
    if (queued != null && !queued.isEmpty()) {
      Waiting next = queued.poll();
      handler.onMessage(next.frame().peer, next.frame().body);
      if (next.ours()) {
        NativeMemory.free(next.frame().body);
      }
      return true;
    }
    try {
      FramedSocket.Frame frame;
      while ((frame = socket.poll((peer, from, length) -> destination(channel, handler, peer, from, length))) != null) {
        if (frame.channel == FramedSocket.CONTROL) {
          onControl(frame);
        } else if (frame.channel == channel) {
          handler.onMessage(frame.peer, frame.body);
          trimReceiveBuffer();
          return true;
        } else {
          waiting.computeIfAbsent(frame.channel, c -> new ArrayDeque<>()).add(frame.body == receiveBuffer
              ? new Waiting(new FramedSocket.Frame(frame.peer, frame.channel, copy(frame.body)), true)
              : new Waiting(frame, frame.body != handlersBuffer));
        }
      }
    } catch (IOException e) {
      relayGone(e);
    }
    return false;
  }

  /**
   * A message of another channel than the one being received, kept for that channel's receive.
   *
   * @param ours whether its buffer is this transport's, freed once it was handed over
   */
  private record Waiting(FramedSocket.Frame frame, boolean ours) {
  }

  /** A message of the channel being received goes where its handler wants it; any other to a buffer of its own. */
  private ByteBuffer destination(int channel, MessageHandler handler, int peer, int from, int length) {
    handlersBuffer = from == channel ? handler.destinationFor(peer, length) : null;
    if (handlersBuffer != null) {
      return handlersBuffer;
    }
    if (from != channel) {
      return from == FramedSocket.CONTROL ? ByteBuffer.allocate(length) : NativeMemory.allocate(length);
    }
    if (receiveBuffer.capacity() < length) {
      NativeMemory.free(receiveBuffer);
      receiveBuffer = NativeMemory.allocate(Math.max(length, 2 * receiveBuffer.capacity()));
    }
    return receiveBuffer;
  }

  private static ByteBuffer copy(ByteBuffer body) {
    ByteBuffer copy = NativeMemory.allocate(body.remaining());
    copy.put(body.duplicate()).flip();
    return copy;
  }

  /** One large message does not keep its size of memory resident for good. */
  private void trimReceiveBuffer() {
    if (receiveBuffer.capacity() > 4 * 1024 * 1024) {
      NativeMemory.free(receiveBuffer);
      receiveBuffer = NativeMemory.allocate(64 * 1024);
    }
  }

  private void onControl(FramedSocket.Frame frame) {
    if (frame.peer == FramedSocket.LOST && lostPeer == null) {
      byte[] description = new byte[frame.body.remaining() - 4];
      frame.body.get(4, description);
      lostPeer = new LostPeer(frame.body.getInt(0), new String(description, StandardCharsets.UTF_8));
    }
  }

  /** The socket failed: the job ended or is ending, which {@link #jobEnded} describes; until then, wait for it. */
  private void relayGone(IOException e) {
    if (lostPeer == null && !job.isAlive()) {
      jobEnded();
    } else if (lostPeer == null && job.onExit().completeOnTimeout(null, TERMINATE_GRACE_MILLIS, TimeUnit.MILLISECONDS)
        .join() == null) {
      lostPeer = new LostPeer(-1, "the relay of the pool's workers went away (" + e.getMessage() + ")");
      terminate(job);
    }
  }

  @Override
  public void exchangeHeartbeats() {
    try {
      socket.flush();
    } catch (IOException e) {
      relayGone(e);
    }
  }

  @Override
  public LostPeer lostPeer() {
    return lostPeer;
  }

  @Override
  public void finish() {
    if (lostPeer == null) {
      finishing = true;
      try {
        PendingSend finish = socket.send(FramedSocket.FINISH, FramedSocket.CONTROL, ByteBuffer.allocateDirect(0), 0);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!finish.isComplete() && System.nanoTime() < deadline) {
          LockSupport.parkNanos(100_000);
          socket.flush();
        }
        job.waitFor(TimeUnit.NANOSECONDS.toMillis(Heartbeats.configuredTimeoutNanos()) + FINISH_MARGIN_MILLIS,
            TimeUnit.MILLISECONDS);
      } catch (IOException e) {
        // The job is ending anyway; whatever is left of it is ended below.
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    terminate(job);
    try {
      // What is left of the job on this host is gone before the pool counts as ended.
      job.waitFor(TERMINATE_GRACE_MILLIS + 1_000, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    socket.close();
    NativeMemory.free(receiveBuffer);
    deleteDirectory(directory);
  }

  @Override
  public void abort(int status) {
    if (lostPeer == null) {
      lostPeer = new LostPeer(-1, "the pool was aborted");
    }
    terminate(job);
  }

  /**
   * Ends the job: SIGTERM to the launch program, which ends the ranks on every host; what is left
   * of it on this host after a grace period is killed.
   */
  private static void terminate(Process job) {
    if (!job.isAlive()) {
      return;
    }
    List<ProcessHandle> local = job.descendants().toList();
    job.destroy();
    job.onExit().completeOnTimeout(null, TERMINATE_GRACE_MILLIS, TimeUnit.MILLISECONDS).thenRun(() -> {
      job.destroyForcibly();
      local.forEach(ProcessHandle::destroyForcibly);
    });
  }

  private static void close(ServerSocketChannel server) {
    if (server != null) {
      try {
        server.close();
      } catch (IOException ignored) {
        // Only releases the descriptor.
      }
    }
  }

  private static void deleteDirectory(Path directory) {
    if (directory == null) {
      return;
    }
    try {
      Files.deleteIfExists(directory.resolve("relay"));
      Files.deleteIfExists(directory);
    } catch (IOException ignored) {
      // A leftover empty directory in the temporary directory is harmless.
    }
  }
}
