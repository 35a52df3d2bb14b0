package org.jmpipool.internal.transport;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.IntStream;

/**
 * {@link Transport} over MPI, through an {@link MpiBinding}, in one of three roles:
 *
 * <ul>
 *   <li>{@link #joinWorld()}: a rank of a launched job; messages travel on a duplicate of
 *       {@code MPI_COMM_WORLD}, so that nothing else in the program can intercept them.
 *   <li>{@link #spawn}: the master of a pool whose workers it starts itself (MPI dynamic
 *       processes); the parent and the children form one merged communicator, the parent rank 0.
 *       The processes of workers on the master's host are watched, since MPI does not tell a
 *       parent that a child died.
 *   <li>{@link #joinParent()}: a spawned worker, on the same merged communicator.
 * </ul>
 *
 * <p>In every role the master and each worker exchange {@link Heartbeats}: a worker silent for
 * their timeout breaks the master's pool ({@link #lostPeer()}); a worker whose master is silent
 * ends its process.
 *
 * <p>Threads: whichever thread runs a pass of its communication loop, one at a time (the
 * communication thread or a helper, {@link #anyThreadMayCall}), makes every call but
 * {@link #abort}, {@link #lostPeer} and {@link #heardFrom}, which any thread may make.
 */
public final class MpiTransport implements Transport {

  private static final int HELLO_TAG = 8;
  private static final int HEARTBEAT_TAG = 9;
  /** The programs of MPI launchers that start a job's ranks on a node, one per job and node. */
  private static final Set<String> JOB_DAEMONS = Set.of("orted", "hydra_pmi_proxy");
  /** The tag of channel 0; channel n uses tag FIRST_CHANNEL_TAG + n. */
  private static final int FIRST_CHANNEL_TAG = 16;
  private static final int INITIAL_RECEIVE_BUFFER = 64 * 1024;
  private static final int MAX_RETAINED_RECEIVE_BUFFER = 4 * 1024 * 1024;
  /** A message at least this long may take long to receive (copying fresh memory). */
  private static final int LONG_RECEIVE_BYTES = 1024 * 1024;

  private final MpiBinding mpi;
  private final MpiBinding.Comm comm;
  private final Role role;
  private final int rank;
  private final int size;
  private final String host;
  private final List<ProcessHandle> localWorkers;
  private volatile LostPeer lostPeer;
  /** Set once the ranks know each other; {@code null} when heartbeats are turned off. */
  private volatile Heartbeats heartbeats;
  private ByteBuffer receiveBuffer = NativeMemory.allocate(INITIAL_RECEIVE_BUFFER);

  /** What this process is in its pool, which decides how the pool ends. */
  private interface Role {
    /** Ends messaging in order. */
    void finish(MpiBinding.Comm comm);

    /** Ends the pool at once. */
    void abort(int status);

    /** Ends a worker whose master has been silent for the heartbeats' timeout: nobody is left to serve. */
    default void masterLost() {
      Runtime.getRuntime().halt(1);
    }
  }

  private MpiTransport(MpiBinding mpi, MpiBinding.Comm comm, Role role, List<ProcessHandle> localWorkers) {
    this.mpi = mpi;
    this.comm = comm;
    this.role = role;
    this.rank = mpi.rank(comm);
    this.size = mpi.size(comm);
    this.host = mpi.processorName();
    this.localWorkers = localWorkers;
  }

  /**
   * Initializes MPI and opens a transport over the world communicator of a launched job.
   *
   * @return the transport
   * @throws TransportException when MPI cannot be initialized or lacks thread support, or the
   *     heartbeats' timeout setting is not valid (before MPI starts)
   */
  public static MpiTransport joinWorld() {
    long heartbeatTimeout = Heartbeats.configuredTimeoutNanos();
    MpiBinding mpi = MpiProcess.initialize(false);
    MpiTransport transport = new MpiTransport(mpi, mpi.dup(mpi.world()), new Role() {
      @Override
      public void finish(MpiBinding.Comm comm) {
        mpi.free(comm);
        MpiProcess.finish();
      }

      @Override
      public void abort(int status) {
        try {
          mpi.abort(mpi.world(), status);
        } catch (TransportException e) {
          Runtime.getRuntime().halt(status);
        }
      }

      /** Not MPI_Abort, which would wait for a launcher this rank may not reach. */
      @Override
      public void masterLost() {
        endJobDaemon();
        Runtime.getRuntime().halt(1);
      }
    }, List.of());
    transport.startHeartbeats(heartbeatTimeout, null);
    return transport;
  }

  /**
   * Starts worker processes with MPI dynamic process management (initializing MPI as a
   * singleton if needed) and opens the master's transport to them.
   *
   * @param command the worker's executable
   * @param arguments its arguments
   * @param workers how many to start
   * @param workingDirectory their working directory
   * @param timeout how long starting the workers and hearing from each may take; a spawn that is
   *     still inside MPI then makes MPI unusable in this JVM (see {@link #abandonSpawn})
   * @return the transport; the master is rank 0, the workers 1 to {@code workers}
   * @throws TransportException when the workers cannot be started, or the heartbeats' timeout
   *     setting is not valid (before MPI starts)
   */
  public static MpiTransport spawn(String command, List<String> arguments, int workers, String workingDirectory,
      Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    long heartbeatTimeout = Heartbeats.configuredTimeoutNanos();
    MpiBinding mpi = MpiProcess.initialize(true);
    MpiProcess.lockSpawning(timeout.toNanos());
    MpiBinding.Comm children;
    try {
      // Workers usually outnumber cores here, and each JVM runs several threads: no pinning.
      children = mpi.spawn(command, arguments, workers,
          Map.of("wdir", workingDirectory, "map_by", "slot:OVERSUBSCRIBE", "bind_to", "none"));
    } catch (TransportException e) {
      if (mpi.family() == MpiInstallation.Family.MPICH) {
        throw new TransportException(e.getMessage() + "; some builds of the MPICH family cannot spawn processes at all"
            + " (Debian's MPICH 4.0 with its ch4:ucx device among them): with MPICH, use a launched job"
            + " (bin/jmpipool --mpi mpich), a pool on named hosts (PoolBuilder.hosts, even \"localhost\"), which"
            + " mpiexec starts, or Open MPI for spawned pools", e);
      }
      throw e;
    } finally {
      MpiProcess.unlockSpawning();
    }
    MpiBinding.Comm merged = mpi.merge(children, false);
    mpi.setErrorsReturn(merged);
    SpawnedPool pool = new SpawnedPool(mpi, children);
    MpiTransport transport = new MpiTransport(mpi, merged, pool, new CopyOnWriteArrayList<>());
    pool.transport = transport;
    transport.greetWorkers(deadline, heartbeatTimeout);
    return transport;
  }

  /**
   * Records that a spawn did not complete in time: its thread may stay inside MPI for good, so
   * MPI is not used again in this JVM.
   *
   * @param reason what happened
   */
  public static void abandonSpawn(String reason) {
    MpiProcess.markUnusable(reason);
  }

  /**
   * Runs an action when the JVM exits, before MPI is finalized: spawned pools end there, since
   * MPI cannot be finalized while connected to running workers.
   *
   * @param action what to run; it must return within a few seconds
   * @return cancels the action
   */
  public static Runnable beforeFinalizing(Runnable action) {
    return MpiProcess.beforeFinalizing(action);
  }

  /**
   * Initializes MPI in a spawned worker and opens its transport to the master that spawned it.
   *
   * @return the transport
   * @throws TransportException when this process was not spawned, MPI fails, or the
   *     heartbeats' timeout setting is not valid (before MPI starts)
   */
  public static MpiTransport joinParent() {
    long heartbeatTimeout = Heartbeats.configuredTimeoutNanos();
    MpiBinding mpi = MpiProcess.initialize(false);
    MpiBinding.Comm parent = mpi.parent();
    if (parent == null) {
      throw new TransportException("this process was not spawned by a jmpipool master");
    }
    MpiBinding.Comm merged = mpi.merge(parent, true);
    mpi.setErrorsReturn(merged);
    MpiTransport transport = new MpiTransport(mpi, merged, new Role() {
      @Override
      public void finish(MpiBinding.Comm comm) {
        mpi.free(comm);
        mpi.disconnect(parent);
        MpiProcess.finish();
      }

      /** Only this worker ends: the master notices and fails its pool. */
      @Override
      public void abort(int status) {
        Runtime.getRuntime().halt(status);
      }
    }, List.of());
    byte[] hostName = transport.host.getBytes(StandardCharsets.UTF_8);
    ByteBuffer hello = NativeMemory.allocate(8 + hostName.length);
    hello.putLong(0, ProcessHandle.current().pid()).put(8, hostName);
    mpi.send(hello, hello.capacity(), 0, HELLO_TAG, merged);
    NativeMemory.free(hello);
    transport.startHeartbeats(heartbeatTimeout, null);
    return transport;
  }

  /** The master's side of a spawned pool. */
  private static final class SpawnedPool implements Role {
    private final MpiBinding mpi;
    private final MpiBinding.Comm children;
    MpiTransport transport;

    SpawnedPool(MpiBinding mpi, MpiBinding.Comm children) {
      this.mpi = mpi;
      this.children = children;
    }

    /** After a worker died, MPI would wait for it forever: the communicators are abandoned. */
    @Override
    public void finish(MpiBinding.Comm comm) {
      if (transport.lostPeer != null) {
        return;
      }
      mpi.free(comm);
      mpi.disconnect(children);
    }

    @Override
    public void abort(int status) {
      if (transport.lostPeer == null) {
        transport.lostPeer = new LostPeer(0, "the pool was aborted");
      }
      transport.localWorkers.forEach(ProcessHandle::destroyForcibly);
    }
  }

  /**
   * Waits for every worker's first message (its process id and host) and watches those on this
   * host: MPI reports nothing to a parent when a child dies.
   */
  private void greetWorkers(long deadline, long heartbeatTimeout) {
    String[] hosts = new String[size];
    int heard = 0;
    while (heard < size - 1) {
      MpiBinding.Matched message = mpi.improbe(mpi.anySource(), HELLO_TAG, comm);
      if (message == null) {
        if (System.nanoTime() > deadline) {
          abort(1);
          throw new TransportException("only " + heard + " of " + (size - 1) + " spawned workers reported in time");
        }
        LockSupport.parkNanos(100_000);
        continue;
      }
      ByteBuffer hello = NativeMemory.allocate(message.length());
      message.receive(hello);
      long pid = hello.getLong(0);
      byte[] workerHost = new byte[message.length() - 8];
      hello.get(8, workerHost);
      NativeMemory.free(hello);
      int worker = message.source();
      hosts[worker] = new String(workerHost, StandardCharsets.UTF_8);
      if (host.equals(hosts[worker])) {
        Optional<ProcessHandle> process = ProcessHandle.of(pid);
        process.ifPresent(localWorkers::add);
        process.ifPresentOrElse(p -> p.onExit().thenRun(() -> workerEnded(worker, pid)), () -> workerEnded(worker, pid));
      }
      heard++;
    }
    startHeartbeats(heartbeatTimeout, hosts);
  }

  /**
   * Starts the heartbeats between the master and each worker.
   *
   * @param timeoutNanos from {@link Heartbeats#configuredTimeoutNanos()}
   * @param hosts the host of each rank where known, or {@code null}
   */
  private void startHeartbeats(long timeoutNanos, String[] hosts) {
    int[] peers = rank == 0 ? IntStream.range(1, size).toArray() : new int[] {0};
    heartbeats = Heartbeats.start(mpi, comm, HEARTBEAT_TAG, host, peers,
        IntStream.of(peers).mapToObj(peer -> hosts == null ? null : hosts[peer]).toArray(String[]::new), timeoutNanos);
  }

  @Override
  public void exchangeHeartbeats() {
    Heartbeats watch = heartbeats;
    if (watch != null && lostPeer == null) {
      onLost(watch, watch.onPass());
    }
  }

  /** Between the long receives of one pass of the loop, which may take seconds together. */
  private void exchangeHeartbeatsNow() {
    Heartbeats watch = heartbeats;
    if (watch != null && lostPeer == null) {
      onLost(watch, watch.exchange(System.nanoTime()));
    }
  }

  /** Breaks the master's pool, or ends this worker, when a peer was lost. */
  private void onLost(Heartbeats watch, int lost) {
    if (lost < 0) {
      return;
    }
    String silent = watch.name(lost) + " sent nothing for " + watch.silence(lost)
        + " (its process or node ended, or the network to it is down)";
    if (rank == 0) {
      lostPeer = new LostPeer(watch.rank(lost), "worker " + silent);
    } else {
      System.err.println("jmpipool: worker rank " + rank + " on " + host + ": the master, " + silent
          + "; this worker ends");
      role.masterLost();
    }
  }

  /**
   * Ends the MPI daemon that started this rank of a launched job (Open MPI's orted, Hydra's
   * proxy), which serves only that job: cut off from its launcher as this rank is from the
   * master, it would wait for TCP to give up (some 15 minutes) before ending. Under srun the
   * parent is SLURM's and stays. A spawned worker's daemon serves its master's other pools, and
   * stays too.
   */
  private static void endJobDaemon() {
    ProcessHandle.current().parent()
        .filter(parent -> parent.info().command().map(Path::of).map(Path::getFileName).map(Path::toString)
            .filter(JOB_DAEMONS::contains).isPresent())
        .ifPresent(ProcessHandle::destroyForcibly);
  }

  @Override
  public String heardFrom() {
    Heartbeats watch = heartbeats;
    return watch == null ? "" : watch.describe(System.nanoTime());
  }

  private void workerEnded(int worker, long pid) {
    if (lostPeer == null) {
      lostPeer = new LostPeer(worker, "worker rank " + worker + " (process " + pid + ") ended unexpectedly");
    }
  }

  @Override
  public int rank() {
    return rank;
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
  public LostPeer lostPeer() {
    return lostPeer;
  }

  @Override
  public PendingSend send(int destination, int channel, ByteBuffer message, int length) {
    return mpi.isend(message, length, destination, FIRST_CHANNEL_TAG + channel, comm)::test;
  }

  @Override
  public boolean anyThreadMayCall() {
    return true;
  }

  @Override
  public boolean receive(int channel, MessageHandler handler) {
    MpiBinding.Matched message = mpi.improbe(mpi.anySource(), FIRST_CHANNEL_TAG + channel, comm);
    if (message == null) {
      return false;
    }
    int length = message.length();
    if (length >= LONG_RECEIVE_BYTES) {
      // A huge payload arrives as many such messages, received in one pass of the loop: the
      // heartbeats go on between them.
      exchangeHeartbeatsNow();
    }
    int source = message.source();
    ByteBuffer destination = handler.destinationFor(source, length);
    if (destination != null) {
      message.receive(destination);
      destination.position(0).limit(length);
      handler.onMessage(source, destination);
      return true;
    }
    if (receiveBuffer.capacity() < length) {
      NativeMemory.free(receiveBuffer);
      receiveBuffer = NativeMemory.allocate(
          (int) Math.min(Integer.MAX_VALUE - 16, Math.max(length, 2L * receiveBuffer.capacity())));
    }
    message.receive(receiveBuffer);
    receiveBuffer.clear().limit(length);
    handler.onMessage(source, receiveBuffer);
    if (receiveBuffer.capacity() > MAX_RETAINED_RECEIVE_BUFFER) {
      // One large message does not keep its size of memory resident for good.
      NativeMemory.free(receiveBuffer);
      receiveBuffer = NativeMemory.allocate(INITIAL_RECEIVE_BUFFER);
    }
    return true;
  }

  @Override
  public void finish() {
    Heartbeats watch = heartbeats;
    if (watch != null && lostPeer == null) {
      watch.finish();
    }
    role.finish(comm);
  }

  @Override
  public void abort(int status) {
    role.abort(status);
  }
}
