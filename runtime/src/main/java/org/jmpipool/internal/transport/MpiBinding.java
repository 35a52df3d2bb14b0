package org.jmpipool.internal.transport;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;

/**
 * The MPI calls jmpipool makes, whatever reaches the MPI library: Open MPI's Java bindings
 * ({@code JavaBindings}, built only when the bindings jar is at hand: {@code src/main/bindings}),
 * or the installed library called through {@code java.lang.foreign} on Java 22 and later
 * ({@code ffm.ForeignBinding}, in the jar's Java 22 section). {@link MpiTransport}
 * and {@link MpiProcess} are written once over it.
 *
 * <p>Handles are opaque objects of the binding. A failing call throws a {@link TransportException}
 * with MPI's own message. Which thread may call what is MPI's rule: jmpipool initializes MPI at
 * {@code MPI_THREAD_MULTIPLE}; the calls come from whichever thread runs a pass of a
 * communication loop, one at a time per loop, and an abort from any thread.
 */
public interface MpiBinding {

  /** A communicator. */
  interface Comm {
  }

  /** A send in progress. */
  interface Request {

    /** Returns whether the send is complete (and the request freed). */
    boolean test();
  }

  /** A message matched by a probe, waiting to be received. */
  interface Matched {

    /** Returns the sender's rank. */
    int source();

    /** Returns its length in bytes. */
    int length();

    /**
     * Receives it.
     *
     * @param into a direct buffer; the message goes to its first {@link #length()} bytes,
     *     whatever its position
     */
    void receive(ByteBuffer into);
  }

  /** Names the binding and library in messages, such as {@code "Open MPI 4.1.4 through its Java bindings"}. */
  String description();

  /** Returns the family of the MPI library, for messages and for what each family can do. */
  MpiInstallation.Family family();

  /** Returns the library's own version string ({@code MPI_Get_library_version}); callable before init. */
  String libraryVersion();

  /**
   * Initializes MPI at thread level {@code MPI_THREAD_MULTIPLE}.
   *
   * @return the level provided (3 is MULTIPLE)
   */
  int initThreadMultiple();

  /** Finalizes MPI. */
  void finalizeMpi();

  /**
   * Makes now what the first call of each function would make, MPI not initialized: a class-data
   * training does, so that ranks find it in their archive.
   */
  default void prepareCalls() {
  }

  /** Returns {@code MPI_COMM_WORLD}. */
  Comm world();

  /** Returns {@code MPI_COMM_SELF}. */
  Comm self();

  /** Returns {@code MPI_ANY_SOURCE}, which the MPI families spell differently. */
  int anySource();

  Comm dup(Comm comm);

  void free(Comm comm);

  void disconnect(Comm comm);

  int rank(Comm comm);

  int size(Comm comm);

  /** Returns this process's host name, as MPI knows it. */
  String processorName();

  /** Makes errors on a communicator return, instead of aborting the process. */
  void setErrorsReturn(Comm comm);

  /**
   * Starts processes ({@code MPI_Comm_spawn} from {@code MPI_COMM_SELF}, root 0).
   *
   * @param info hints, such as {@code wdir}; keys a library does not know are ignored by it
   * @return the intercommunicator to the children
   * @throws TransportException naming the children that could not be started
   */
  Comm spawn(String command, List<String> arguments, int processes, Map<String, String> info);

  /** Merges an intercommunicator into an intracommunicator; {@code high} orders this group last. */
  Comm merge(Comm intercomm, boolean high);

  /** Returns the intercommunicator to the parent that spawned this process, or {@code null}. */
  Comm parent();

  /** Starts sending the first {@code length} bytes of a direct buffer, whatever its position. */
  Request isend(ByteBuffer buffer, int length, int destination, int tag, Comm comm);

  /** Sends the first {@code length} bytes of a direct buffer, whatever its position, waiting until it is sent. */
  void send(ByteBuffer buffer, int length, int destination, int tag, Comm comm);

  /** Matches a waiting message ({@code MPI_Improbe}), or returns {@code null} when none waits. */
  Matched improbe(int source, int tag, Comm comm);

  /** Ends every process of a communicator's job ({@code MPI_Abort}). */
  void abort(Comm comm, int status);
}
