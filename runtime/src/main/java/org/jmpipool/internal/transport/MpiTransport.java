package org.jmpipool.internal.transport;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import mpi.Comm;
import mpi.MPI;
import mpi.MPIException;
import mpi.Message;
import mpi.Request;
import mpi.Status;

/**
 * {@link Transport} over Open MPI's Java bindings. Messages travel on a duplicate of
 * {@code MPI_COMM_WORLD}, so that nothing else in the program can intercept them.
 */
public final class MpiTransport implements Transport {

  private static final int TAG = 7;

  private final Comm comm;
  private final int rank;
  private final int size;
  private final String host;
  private ByteBuffer receiveBuffer = allocate(64 * 1024);

  private MpiTransport(Comm comm, int rank, int size, String host) {
    this.comm = comm;
    this.rank = rank;
    this.size = size;
    this.host = host;
  }

  /**
   * Initializes MPI (thread level MULTIPLE, so that {@link #abort(int)} works from any thread)
   * and opens a transport over the world communicator.
   *
   * @return the transport
   * @throws TransportException when MPI cannot be initialized or lacks thread support
   */
  public static MpiTransport initialize() {
    try {
      int provided = MPI.InitThread(new String[0], MPI.THREAD_MULTIPLE);
      if (provided < MPI.THREAD_MULTIPLE) {
        throw new TransportException("the MPI library provides thread level " + provided
            + ", jmpipool needs MPI_THREAD_MULTIPLE (" + MPI.THREAD_MULTIPLE + ")");
      }
      Comm world = MPI.COMM_WORLD.dup();
      return new MpiTransport(world, world.getRank(), world.getSize(), MPI.getProcessorName());
    } catch (MPIException e) {
      throw new TransportException("MPI initialization failed: " + e.getMessage(), e);
    } catch (UnsatisfiedLinkError e) {
      throw new TransportException("the Open MPI Java bindings (mpi.jar) do not match the native library"
          + " libmpi_java: " + e.getMessage() + "; run packaging/provision-mpi.sh", e);
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
  public PendingSend send(int destination, ByteBuffer message, int length) {
    try {
      Request request = comm.iSend(message, length, MPI.BYTE, destination, TAG);
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
  public boolean receive(MessageHandler handler) {
    try {
      Message message = new Message();
      Status status = message.imProbe(MPI.ANY_SOURCE, TAG, comm);
      if (status == null) {
        return false;
      }
      int length = status.getCount(MPI.BYTE);
      if (receiveBuffer.capacity() < length) {
        receiveBuffer = allocate(Math.max(length, receiveBuffer.capacity() * 2));
      }
      message.mRecv(receiveBuffer, length, MPI.BYTE);
      receiveBuffer.clear().limit(length);
      handler.onMessage(status.getSource(), receiveBuffer);
      return true;
    } catch (MPIException e) {
      throw new TransportException("receiving a message failed", e);
    }
  }

  @Override
  public void finish() {
    try {
      comm.free();
      MPI.Finalize();
    } catch (MPIException e) {
      throw new TransportException("MPI finalization failed", e);
    }
  }

  @Override
  public void abort(int status) {
    try {
      MPI.COMM_WORLD.abort(status);
    } catch (MPIException e) {
      Runtime.getRuntime().halt(status);
    }
  }

  private static ByteBuffer allocate(int capacity) {
    return MPI.newByteBuffer(capacity).order(ByteOrder.nativeOrder());
  }
}
