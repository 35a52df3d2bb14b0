package org.jmpipool.internal.transport;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.LockSupport;
import mpi.Comm;
import mpi.Info;
import mpi.Intercomm;
import mpi.Intracomm;
import mpi.MPI;
import mpi.MPIException;
import mpi.Message;
import mpi.Request;
import mpi.Status;

/**
 * {@link Transport} over Open MPI's Java bindings, in one of three roles:
 *
 * <ul>
 *   <li>{@link #joinWorld()}: a rank of a launched job; messages travel on a duplicate of
 *       {@code MPI_COMM_WORLD}, so that nothing else in the program can intercept them.
 *   <li>{@link #spawn}: the master of a pool whose workers it starts itself (MPI dynamic
 *       processes); the parent and the children form one merged communicator, the parent rank 0.
 *       The workers' processes are watched, since MPI does not tell a parent that a child died.
 *   <li>{@link #joinParent()}: a spawned worker, on the same merged communicator.
 * </ul>
 */
public final class MpiTransport implements Transport {

  private static final int HELLO_TAG = 8;
  /** The tag of channel 0; channel n uses tag FIRST_CHANNEL_TAG + n. */
  private static final int FIRST_CHANNEL_TAG = 16;

  private final Intracomm comm;
  private final Role role;
  private final int rank;
  private final int size;
  private final String host;
  private final List<ProcessHandle> localWorkers;
  private volatile LostPeer lostPeer;
  private static final int INITIAL_RECEIVE_BUFFER = 64 * 1024;
  private static final int MAX_RETAINED_RECEIVE_BUFFER = 4 * 1024 * 1024;
  private ByteBuffer receiveBuffer = allocate(INITIAL_RECEIVE_BUFFER);

  /** What this process is in its pool, which decides how the pool ends. */
  private interface Role {
    /** Ends messaging in order. */
    void finish(Intracomm comm) throws MPIException;

    /** Ends the pool at once. */
    void abort(int status);
  }

  private MpiTransport(Intracomm comm, Role role, List<ProcessHandle> localWorkers) throws MPIException {
    this.comm = comm;
    this.role = role;
    this.rank = comm.getRank();
    this.size = comm.getSize();
    this.host = MPI.getProcessorName();
    this.localWorkers = localWorkers;
  }

  /**
   * Initializes MPI and opens a transport over the world communicator of a launched job.
   *
   * @return the transport
   * @throws TransportException when MPI cannot be initialized or lacks thread support
   */
  public static MpiTransport joinWorld() {
    MpiProcess.initialize(false);
    try {
      return new MpiTransport(MPI.COMM_WORLD.dup(), new Role() {
        @Override
        public void finish(Intracomm comm) throws MPIException {
          comm.free();
          MpiProcess.finish();
        }

        @Override
        public void abort(int status) {
          try {
            MPI.COMM_WORLD.abort(status);
          } catch (MPIException e) {
            Runtime.getRuntime().halt(status);
          }
        }
      }, List.of());
    } catch (MPIException e) {
      throw new TransportException("cannot set up the job's communicator: " + e.getMessage(), e);
    }
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
   * @throws TransportException when the workers cannot be started
   */
  public static MpiTransport spawn(String command, List<String> arguments, int workers, String workingDirectory,
      Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    MpiProcess.initialize(true);
    MpiProcess.lockSpawning(timeout.toNanos());
    Intercomm children;
    try {
      Info info = new Info();
      info.set("wdir", workingDirectory);
      // Workers usually outnumber cores here, and each JVM runs several threads: no pinning.
      info.set("map_by", "slot:OVERSUBSCRIBE");
      info.set("bind_to", "none");
      int[] errors = new int[workers];
      children = MPI.COMM_SELF.spawn(command, arguments.toArray(new String[0]), workers, info, 0, errors);
      info.free();
      for (int i = 0; i < workers; i++) {
        if (errors[i] != MPI.SUCCESS) {
          throw new TransportException("worker " + (i + 1) + " of " + workers + " could not be started (MPI error "
              + errors[i] + ")");
        }
      }
    } catch (MPIException e) {
      throw new TransportException("MPI could not start " + workers + " workers: " + e.getMessage(), e);
    } finally {
      MpiProcess.unlockSpawning();
    }
    try {
      Intracomm merged = children.merge(false);
      merged.setErrhandler(MPI.ERRORS_RETURN);
      SpawnedPool pool = new SpawnedPool(children);
      MpiTransport transport = new MpiTransport(merged, pool, new CopyOnWriteArrayList<>());
      pool.transport = transport;
      transport.greetWorkers(deadline);
      return transport;
    } catch (MPIException e) {
      throw new TransportException("cannot connect to the spawned workers: " + e.getMessage(), e);
    }
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
   * @throws TransportException when this process was not spawned, or MPI fails
   */
  public static MpiTransport joinParent() {
    MpiProcess.initialize(false);
    try {
      Intercomm parent = Intercomm.getParent();
      if (parent == null || parent.isNull()) {
        throw new TransportException("this process was not spawned by a jmpipool master");
      }
      Intracomm merged = parent.merge(true);
      merged.setErrhandler(MPI.ERRORS_RETURN);
      MpiTransport transport = new MpiTransport(merged, new Role() {
        @Override
        public void finish(Intracomm comm) throws MPIException {
          comm.free();
          parent.disconnect();
          MpiProcess.finish();
        }

        /** Only this worker ends: the master notices and fails its pool. */
        @Override
        public void abort(int status) {
          Runtime.getRuntime().halt(status);
        }
      }, List.of());
      byte[] hostName = transport.host.getBytes(StandardCharsets.UTF_8);
      ByteBuffer hello = allocate(8 + hostName.length);
      hello.putLong(0, ProcessHandle.current().pid()).put(8, hostName);
      merged.send(hello, hello.capacity(), MPI.BYTE, 0, HELLO_TAG);
      return transport;
    } catch (MPIException e) {
      throw new TransportException("cannot connect to the master that spawned this worker: " + e.getMessage(), e);
    }
  }

  /** The master's side of a spawned pool. */
  private static final class SpawnedPool implements Role {
    private final Intercomm children;
    MpiTransport transport;

    SpawnedPool(Intercomm children) {
      this.children = children;
    }

    /** After a worker died, MPI would wait for it forever: the communicators are abandoned. */
    @Override
    public void finish(Intracomm comm) throws MPIException {
      if (transport.lostPeer != null) {
        return;
      }
      comm.free();
      children.disconnect();
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
  private void greetWorkers(long deadline) throws MPIException {
    int heard = 0;
    while (heard < size - 1) {
      Message message = new Message();
      Status status = message.imProbe(MPI.ANY_SOURCE, HELLO_TAG, comm);
      if (status == null) {
        if (System.nanoTime() > deadline) {
          abort(1);
          throw new TransportException("only " + heard + " of " + (size - 1) + " spawned workers reported in time");
        }
        LockSupport.parkNanos(100_000);
        continue;
      }
      int length = status.getCount(MPI.BYTE);
      ByteBuffer hello = allocate(length);
      message.mRecv(hello, length, MPI.BYTE);
      long pid = hello.getLong(0);
      byte[] workerHost = new byte[length - 8];
      hello.get(8, workerHost);
      int worker = status.getSource();
      if (host.equals(new String(workerHost, StandardCharsets.UTF_8))) {
        Optional<ProcessHandle> process = ProcessHandle.of(pid);
        process.ifPresent(localWorkers::add);
        process.ifPresentOrElse(p -> p.onExit().thenRun(() -> workerEnded(worker, pid)), () -> workerEnded(worker, pid));
      }
      heard++;
    }
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
    try {
      Request request = comm.iSend(message, length, MPI.BYTE, destination, FIRST_CHANNEL_TAG + channel);
      return () -> test(request);
    } catch (MPIException e) {
      throw new TransportException("sending " + length + " bytes to rank " + destination + " failed", e);
    }
  }

  private static boolean test(Request request) {
    try {
      return request.test();
    } catch (MPIException e) {
      throw new TransportException("a send failed", e);
    }
  }

  @Override
  public boolean receive(int channel, MessageHandler handler) {
    try {
      Message message = new Message();
      Status status = message.imProbe(MPI.ANY_SOURCE, FIRST_CHANNEL_TAG + channel, comm);
      if (status == null) {
        return false;
      }
      int length = status.getCount(MPI.BYTE);
      int source = status.getSource();
      ByteBuffer destination = handler.destinationFor(source, length);
      if (destination != null) {
        message.mRecv(destination.slice(), length, MPI.BYTE);
        destination.limit(destination.position() + length);
        handler.onMessage(source, destination);
        return true;
      }
      if (receiveBuffer.capacity() < length) {
        NativeMemory.free(receiveBuffer);
        receiveBuffer = allocate((int) Math.min(Integer.MAX_VALUE - 16, Math.max(length, 2L * receiveBuffer.capacity())));
      }
      message.mRecv(receiveBuffer, length, MPI.BYTE);
      receiveBuffer.clear().limit(length);
      handler.onMessage(source, receiveBuffer);
      if (receiveBuffer.capacity() > MAX_RETAINED_RECEIVE_BUFFER) {
        // One large message does not keep its size of memory resident for good.
        NativeMemory.free(receiveBuffer);
        receiveBuffer = allocate(INITIAL_RECEIVE_BUFFER);
      }
      return true;
    } catch (MPIException e) {
      throw new TransportException("receiving a message failed", e);
    }
  }

  @Override
  public void finish() {
    try {
      role.finish(comm);
    } catch (MPIException e) {
      throw new TransportException("ending the pool's communication failed", e);
    }
  }

  @Override
  public void abort(int status) {
    role.abort(status);
  }

  private static ByteBuffer allocate(int capacity) {
    return NativeMemory.allocate(capacity);
  }
}
