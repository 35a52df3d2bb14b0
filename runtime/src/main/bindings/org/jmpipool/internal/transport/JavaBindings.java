package org.jmpipool.internal.transport;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import mpi.Info;
import mpi.Intercomm;
import mpi.MPI;
import mpi.MPIException;
import mpi.Message;
import mpi.Request;
import mpi.Status;

/**
 * {@link MpiBinding} over Open MPI's Java bindings (package {@code mpi}, built with Open MPI's
 * {@code --enable-mpi-java}): the only class that uses them. They take a direct buffer's
 * address, whatever its position. Upstream Open MPI has removed them from its main branch; on
 * Java 22 and later the foreign-function binding needs none. Compiled only when the build has
 * the bindings jar (the {@code java-bindings} profile), and loaded by name ({@link MpiBindings}).
 *
 * <p>Threads: as {@link MpiBinding} says: the communication thread, and any thread for
 * initialization and abort.
 */
final class JavaBindings implements MpiBinding {

  /** Per calling thread, a message handle no probe has matched yet. */
  private final ThreadLocal<Message[]> unmatched = ThreadLocal.withInitial(() -> new Message[1]);

  /** A communicator of the bindings. */
  private record Communicator(mpi.Comm comm) implements Comm {
  }

  @Override
  public String description() {
    return "Open MPI through its Java bindings (mpi.jar)";
  }

  @Override
  public MpiInstallation.Family family() {
    return MpiInstallation.Family.OPEN_MPI;
  }

  @Override
  public String libraryVersion() {
    return MPI.getLibVersion().strip();
  }

  @Override
  public int initThreadMultiple() {
    try {
      return MPI.InitThread(new String[0], MPI.THREAD_MULTIPLE);
    } catch (MPIException e) {
      throw failed("MPI initialization", e);
    }
  }

  @Override
  public void finalizeMpi() {
    try {
      MPI.Finalize();
    } catch (MPIException e) {
      throw failed("MPI_Finalize", e);
    }
  }

  @Override
  public Comm world() {
    return new Communicator(MPI.COMM_WORLD);
  }

  @Override
  public Comm self() {
    return new Communicator(MPI.COMM_SELF);
  }

  @Override
  public int anySource() {
    return MPI.ANY_SOURCE;
  }

  @Override
  public Comm dup(Comm comm) {
    try {
      return new Communicator(of(comm).dup());
    } catch (MPIException e) {
      throw failed("MPI_Comm_dup", e);
    }
  }

  @Override
  public void free(Comm comm) {
    try {
      of(comm).free();
    } catch (MPIException e) {
      throw failed("MPI_Comm_free", e);
    }
  }

  @Override
  public void disconnect(Comm comm) {
    try {
      of(comm).disconnect();
    } catch (MPIException e) {
      throw failed("MPI_Comm_disconnect", e);
    }
  }

  @Override
  public int rank(Comm comm) {
    try {
      return of(comm).getRank();
    } catch (MPIException e) {
      throw failed("MPI_Comm_rank", e);
    }
  }

  @Override
  public int size(Comm comm) {
    try {
      return of(comm).getSize();
    } catch (MPIException e) {
      throw failed("MPI_Comm_size", e);
    }
  }

  @Override
  public String processorName() {
    try {
      return MPI.getProcessorName();
    } catch (MPIException e) {
      throw failed("MPI_Get_processor_name", e);
    }
  }

  @Override
  public void setErrorsReturn(Comm comm) {
    try {
      of(comm).setErrhandler(MPI.ERRORS_RETURN);
    } catch (MPIException e) {
      throw failed("MPI_Comm_set_errhandler", e);
    }
  }

  @Override
  public Comm spawn(String command, List<String> arguments, int processes, Map<String, String> info) {
    try {
      Info hints = new Info();
      for (Map.Entry<String, String> hint : info.entrySet()) {
        hints.set(hint.getKey(), hint.getValue());
      }
      int[] errors = new int[processes];
      Intercomm children = MPI.COMM_SELF.spawn(command, arguments.toArray(new String[0]), processes, hints, 0, errors);
      hints.free();
      for (int i = 0; i < processes; i++) {
        if (errors[i] != MPI.SUCCESS) {
          throw new TransportException("worker " + (i + 1) + " of " + processes + " could not be started (MPI error "
              + errors[i] + ")");
        }
      }
      return new Communicator(children);
    } catch (MPIException e) {
      throw new TransportException("MPI could not start " + processes + " workers: " + e.getMessage(), e);
    }
  }

  @Override
  public Comm merge(Comm intercomm, boolean high) {
    try {
      return new Communicator(((Intercomm) of(intercomm)).merge(high));
    } catch (MPIException e) {
      throw failed("MPI_Intercomm_merge", e);
    }
  }

  @Override
  public Comm parent() {
    try {
      Intercomm parent = Intercomm.getParent();
      return parent == null || parent.isNull() ? null : new Communicator(parent);
    } catch (MPIException e) {
      throw failed("MPI_Comm_get_parent", e);
    }
  }

  @Override
  public Request isend(ByteBuffer buffer, int length, int destination, int tag, Comm comm) {
    try {
      mpi.Request request = of(comm).iSend(buffer, length, MPI.BYTE, destination, tag);
      return () -> {
        try {
          return request.test();
        } catch (MPIException e) {
          throw failed("a send (MPI_Test)", e);
        }
      };
    } catch (MPIException e) {
      throw new TransportException("sending " + length + " bytes to rank " + destination + " failed", e);
    }
  }

  @Override
  public void send(ByteBuffer buffer, int length, int destination, int tag, Comm comm) {
    try {
      of(comm).send(buffer, length, MPI.BYTE, destination, tag);
    } catch (MPIException e) {
      throw new TransportException("sending " + length + " bytes to rank " + destination + " failed", e);
    }
  }

  @Override
  public Matched improbe(int source, int tag, Comm comm) {
    try {
      // The handle of a probe that matched nothing is kept for the next one: idle polling allocates nothing.
      Message[] spare = unmatched.get();
      Message message = spare[0] != null ? spare[0] : new Message();
      Status status = message.imProbe(source, tag, of(comm));
      if (status == null) {
        spare[0] = message;
        return null;
      }
      spare[0] = null;
      int length = status.getCount(MPI.BYTE);
      int sender = status.getSource();
      return new Matched() {
        @Override
        public int source() {
          return sender;
        }

        @Override
        public int length() {
          return length;
        }

        @Override
        public void receive(ByteBuffer into) {
          try {
            message.mRecv(into, length, MPI.BYTE);
          } catch (MPIException e) {
            throw failed("receiving a message (MPI_Mrecv)", e);
          }
        }
      };
    } catch (MPIException e) {
      throw failed("probing for a message (MPI_Improbe)", e);
    }
  }

  @Override
  public void abort(Comm comm, int status) {
    try {
      of(comm).abort(status);
    } catch (MPIException e) {
      throw failed("MPI_Abort", e);
    }
  }

  private static mpi.Comm of(Comm comm) {
    return ((Communicator) comm).comm();
  }

  private static TransportException failed(String what, MPIException e) {
    return new TransportException(what + " failed: " + e.getMessage(), e);
  }
}
