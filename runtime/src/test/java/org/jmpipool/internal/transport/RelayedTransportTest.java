package org.jmpipool.internal.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The master's transport to a relay and the relay's link to the master, joined by a real local
 * socket; the workers' job is a process the test ends.
 */
@Timeout(60)
class RelayedTransportTest {

  private static final String HOST = Transport.localHostName();

  private Path directory;
  private Process job;
  private final ArrayDeque<String> errorLines = new ArrayDeque<>();
  private RelayedTransport master;
  private RelayLink relay;

  @BeforeEach
  void connect() throws Exception {
    directory = Files.createTempDirectory("relay-test");
    Path path = directory.resolve("relay");
    job = new ProcessBuilder("sleep", "60").start();
    try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      server.bind(UnixDomainSocketAddress.of(path));
      relay = RelayLink.connect(path, 3);
      FramedSocket socket = new FramedSocket(server.accept());
      FramedSocket.Frame hello = pollUntilComplete(socket);
      assertEquals(FramedSocket.CONTROL, hello.channel);
      assertEquals(FramedSocket.HELLO, hello.peer);
      master = new RelayedTransport(job, directory, socket, hello.body.getInt(0), List.of(HOST, "node2", "node3"),
          "mpirun", errorLines, CompletableFuture.completedFuture(null));
    }
  }

  @AfterEach
  void end() {
    relay.close();
    master.abort(1);
    job.destroyForcibly();
  }

  private static FramedSocket.Frame pollUntilComplete(FramedSocket socket) throws IOException {
    FramedSocket.Frame frame;
    while ((frame = socket.poll((peer, channel, length) -> ByteBuffer.allocate(length))) == null) {
      Thread.onSpinWait();
    }
    return frame;
  }

  private static ByteBuffer message(int length, int seed) {
    ByteBuffer message = NativeMemory.allocate(Math.max(length, 1));
    for (int i = 0; i < length; i++) {
      message.put(i, (byte) (i * 31 + seed));
    }
    return message;
  }

  private static void assertMessage(ByteBuffer received, int length, int seed) {
    assertEquals(length, received.remaining());
    for (int i = 0; i < length; i++) {
      if (received.get(received.position() + i) != (byte) (i * 31 + seed)) {
        throw new AssertionError("byte " + i + " of a " + length + "-byte message differs");
      }
    }
  }

  /** Turns both ends' loops until the condition holds. */
  private void pumpUntil(BooleanSupplier condition, Runnable relayPass, Runnable masterPass) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "the messages did not arrive");
      master.exchangeHeartbeats();
      relayPass.run();
      relay.flush();
      masterPass.run();
    }
  }

  @Test
  void theStartReportsTheJobsSizeAndThisProcessAsRankZero() {
    assertEquals(3, master.size());
    assertEquals(0, master.rank());
    assertEquals(HOST, master.host());
    assertNull(master.lostPeer());
  }

  @Test
  void messagesCrossBothWaysWholeAndInOrderWhateverTheirSize() {
    int[] lengths = {0, 10, 3 << 20, 7};
    List<Transport.PendingSend> sends = new ArrayList<>();
    for (int i = 0; i < lengths.length; i++) {
      sends.add(master.send(1 + i % 2, 0, message(lengths[i], i), lengths[i]));
    }
    List<Object[]> forwarded = new ArrayList<>();
    pumpUntil(() -> forwarded.size() == lengths.length, () -> relay.receive(new RelayLink.Receiver() {
      @Override
      public void forward(int worker, int channel, ByteBuffer message) {
        forwarded.add(new Object[] {worker, channel, message});
      }

      @Override
      public void finish() {
        throw new AssertionError("no finish was sent");
      }
    }), () -> { });
    for (int i = 0; i < lengths.length; i++) {
      assertEquals(1 + i % 2, forwarded.get(i)[0]);
      assertEquals(0, forwarded.get(i)[1]);
      assertMessage((ByteBuffer) forwarded.get(i)[2], lengths[i], i);
    }
    assertTrue(sends.stream().allMatch(Transport.PendingSend::isComplete));

    ByteBuffer wanted = NativeMemory.allocate(5 << 20);
    List<String> received = new ArrayList<>();
    relay.toMaster(2, 0, message(5 << 20, 7), 5 << 20);
    relay.toMaster(1, 0, message(12, 8), 12);
    pumpUntil(() -> received.size() == 2, () -> { }, () -> master.receive(0, new Transport.MessageHandler() {
      @Override
      public void onMessage(int source, ByteBuffer message) {
        assertMessage(message, source == 2 ? 5 << 20 : 12, source == 2 ? 7 : 8);
        received.add(source + (message == wanted ? " into its handler's buffer" : " into the transport's"));
      }

      @Override
      public ByteBuffer destinationFor(int source, int length) {
        return length == 5 << 20 ? wanted : null;
      }
    }));
    assertEquals(List.of("2 into its handler's buffer", "1 into the transport's"), received);
  }

  @Test
  void aMessageOfAnotherChannelWaitsForThatChannelsReceive() {
    relay.toMaster(1, 1, message(20, 1), 20);
    relay.toMaster(2, 0, message(30, 2), 30);
    List<String> received = new ArrayList<>();
    pumpUntil(() -> received.size() == 1, () -> { },
        () -> master.receive(0, (source, message) -> received.add("channel 0 from " + source)));
    assertTrue(master.receive(1, (source, message) -> {
      assertMessage(message, 20, 1);
      received.add("channel 1 from " + source);
    }));
    assertEquals(List.of("channel 0 from 2", "channel 1 from 1"), received);
    assertFalse(master.receive(1, (source, message) -> received.add("again")));
  }

  @Test
  void aWorkerTheRelaysHeartbeatsLostBreaksThePoolWithTheRelaysWords() {
    relay.lost(new Transport.LostPeer(2, "worker rank 2 on node3 sent nothing for 10.0 s"));
    pumpUntil(() -> master.lostPeer() != null, () -> { }, () -> master.receive(0, (source, message) -> { }));
    assertEquals(new Transport.LostPeer(2, "worker rank 2 on node3 sent nothing for 10.0 s"), master.lostPeer());
  }

  @Test
  void theJobsEndNamesTheWorkerOnTheHostItsLaunchProgramNamedOtherThanAsTheReporter() throws Exception {
    errorLines.addAll(List.of("An MPI communication peer process has unexpectedly disconnected.", "  Local host: node2",
        "  Peer host:  " + HOST, "  Remote daemon: [[41120,0],2] on node node3"));
    job.destroyForcibly().waitFor();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (master.lostPeer() == null && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    Transport.LostPeer lost = master.lostPeer();
    assertEquals(2, lost.rank(), lost.toString());
    assertTrue(lost.description().startsWith("worker rank 2 on node3: the MPI job of the pool's workers ended (mpirun"
        + " exited with status 137; it said: \"Remote daemon: [[41120,0],2] on node node3\")"), lost.description());
  }

  @Test
  void aJobThatEndsNamingNoHostIsQuotedAndNamesNoWorker() throws Exception {
    errorLines.addAll(List.of("-----", "ORTE was unable to reliably start one or more daemons.", "", "-----"));
    job.destroyForcibly().waitFor();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (master.lostPeer() == null && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertEquals(new Transport.LostPeer(-1, "the MPI job of the pool's workers ended (mpirun exited with status 137;"
        + " it said: ORTE was unable to reliably start one or more daemons.)"), master.lostPeer());
  }

  @Test
  void anOrderedEndTellsTheRelayAndIsNoLoss() throws Exception {
    boolean[] finished = new boolean[1];
    CompletableFuture<Void> relayPass = CompletableFuture.runAsync(() -> {
      while (!finished[0]) {
        relay.receive(new RelayLink.Receiver() {
          @Override
          public void forward(int worker, int channel, ByteBuffer message) {
          }

          @Override
          public void finish() {
            finished[0] = true;
            job.destroy();
          }
        });
      }
    });
    master.finish();
    relayPass.get(10, TimeUnit.SECONDS);
    assertNull(master.lostPeer());
    assertFalse(Files.exists(directory));
    assertEquals(0, relay.receive(new RelayLink.Receiver() {
      @Override
      public void forward(int worker, int channel, ByteBuffer message) {
      }

      @Override
      public void finish() {
      }
    }), "after the master's finish, its closed socket is not read as its going away");
  }

  @Test
  void theRelaySaysOnceWhenTheMasterWentAway() {
    master.abort(1);
    master.finish();
    TransportException gone = assertThrows(TransportException.class, () -> {
      while (true) {
        relay.receive(new RelayLink.Receiver() {
          @Override
          public void forward(int worker, int channel, ByteBuffer message) {
          }

          @Override
          public void finish() {
          }
        });
      }
    });
    assertEquals("the pool's master went away", gone.getMessage());
  }

  @Test
  void theLaunchProgramsWordsBlameARankItNamesFirstThenAHostOtherThanTheReporter() {
    List<String> hosts = List.of(HOST, "node2", "node3", "node3");
    assertEquals(new RelayedTransport.Culprit(3, "mpirun noticed that process rank 3 with PID 0 on node node3 exited on"
        + " signal 9 (Killed)."), RelayedTransport.culprit(List.of("  Local host: node2", "mpirun noticed that process"
        + " rank 3 with PID 0 on node node3 exited on signal 9 (Killed)."), hosts, HOST));
    assertEquals(new RelayedTransport.Culprit(2, "=   RANK 2 PID 4242 RUNNING AT node3"),
        RelayedTransport.culprit(List.of("BAD TERMINATION", "=   RANK 2 PID 4242 RUNNING AT node3"), hosts, HOST));
    assertEquals(new RelayedTransport.Culprit(2, "Remote daemon: [[41120,0],2] on node node3"),
        RelayedTransport.culprit(List.of("  Local host: node2", "  Peer host: " + HOST,
            "  Remote daemon: [[41120,0],2] on node node3"), hosts, HOST));
    assertNull(RelayedTransport.culprit(List.of("process rank 0 exited", "rank 9 is not ours", "node23 is gone",
        "  Local host: node2"), hosts, HOST));
  }

  @Test
  void workersAreSharedOutOverTheHostsInOrderWithTheRelayOnThisHost() {
    assertEquals(Map.of(HOST, 1, "node2", 3, "node3", 2), RelayedTransport.placement(5, List.of("node2", "node3")));
    assertEquals(List.of(HOST, "node2", "node3"),
        List.copyOf(RelayedTransport.placement(5, List.of("node2", "node3")).keySet()));
    assertEquals(Map.of(HOST, 1, "node2", 1), RelayedTransport.placement(1, List.of("node2", "node3", "node4")));
    assertEquals(Map.of(HOST, 3), RelayedTransport.placement(2, List.of("localhost")));
    assertEquals(Map.of(HOST, 2, "node2", 1), RelayedTransport.placement(2, List.of(HOST, "node2")));
  }

  @Test
  void theVariablesOfAnMpiRanksRuntimeStayOutOfTheLaunchProgramsEnvironment() {
    for (String name : List.of("PMIX_RANK", "PMI_FD", "OMPI_COMM_WORLD_RANK", "OMPI_COMMAND", "OMPI_MCA_ess",
        "OMPI_MCA_orte_hnp_uri", "OMPI_MCA_pmix", "MPI_LOCALRANKID")) {
      assertTrue(RelayedTransport.isRankVariable(name), name);
    }
    for (String name : List.of("OMPI_MCA_plm_rsh_agent", "OMPI_ALLOW_RUN_AS_ROOT", "HYDRA_LAUNCHER_EXEC", "PATH",
        "UCX_TLS", "OMPI_MCA_oob_tcp_keepalive_time")) {
      assertFalse(RelayedTransport.isRankVariable(name), name);
    }
  }

  @Test
  void aTransportLayerTheLauncherChoseForOneHostStaysOutOfAPoolOnOtherHosts() {
    Map<String, String> launched = new java.util.HashMap<>(Map.of("OMPI_MCA_pml", "ob1",
        MpiInstallation.SINGLE_HOST_PML_VARIABLE, "ob1", "OMPI_COMM_WORLD_RANK", "0", "PATH", "/usr/bin"));
    RelayedTransport.withoutRankVariables(launched);
    assertEquals(Map.of("PATH", "/usr/bin"), launched);
    Map<String, String> usersChoice = new java.util.HashMap<>(Map.of("OMPI_MCA_pml", "ucx", "PATH", "/usr/bin"));
    RelayedTransport.withoutRankVariables(usersChoice);
    assertEquals(Map.of("OMPI_MCA_pml", "ucx", "PATH", "/usr/bin"), usersChoice);
  }
}
