package org.jmpipool.internal.transport;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;

/**
 * Point-to-point messaging between the ranks of a pool: its master (rank 0) and its workers. The
 * only door to MPI ({@link MpiTransport}); a local pool's ranks are threads
 * ({@link InProcessNetwork}); the master of a pool on named hosts reaches its workers through a
 * relay rank of theirs ({@link RelayedTransport}).
 *
 * <p>Messages travel on numbered channels: several pools can share the ranks of one job, each on
 * its own channel, without seeing each other's messages (over MPI a channel is a tag). Between
 * two ranks, messages of one channel arrive in the order they were sent.
 *
 * <p>Every method is called from one thread, the rank's communication thread, except
 * {@link #abort(int)}, {@link #lostPeer()} and {@link #heardFrom()}, which any thread may call. Sends never block: the caller polls
 * {@link PendingSend#isComplete()} and keeps the buffer untouched until then. Receives never
 * block either: {@link #receive(int, MessageHandler)} hands over one message if one is waiting.
 */
public interface Transport {

  /** Returns this process's rank, from 0 to {@link #size()} - 1. */
  int rank();

  /** Returns the number of processes in the job. */
  int size();

  /** Returns this process's host name. */
  String host();

  /** The highest channel number a transport supports (MPI guarantees tags up to 32767). */
  int MAX_CHANNEL = 30_000;

  /**
   * Starts sending {@code length} bytes from the start of a direct buffer.
   *
   * @param destination the rank to send to
   * @param channel the channel, from 0 to {@link #MAX_CHANNEL}
   * @param message a direct buffer; its first {@code length} bytes are sent
   * @param length the number of bytes
   * @return a handle to poll for completion
   */
  PendingSend send(int destination, int channel, ByteBuffer message, int length);

  /**
   * Receives one waiting message of a channel, if there is one, and hands it to the handler
   * before returning.
   *
   * @param channel the channel
   * @param handler gets the source rank and the message (position 0, limit its length); the buffer
   *     is reused after the handler returns
   * @return whether a message was received
   */
  boolean receive(int channel, MessageHandler handler);

  /** Ends messaging in order; every rank must call it. */
  void finish();

  /**
   * Ends the pool at once; callable from any thread. In a launched job this ends every process
   * of the job, this one included, with the given status; a pool of spawned workers kills its
   * workers and leaves the calling JVM running.
   *
   * @param status the exit status the job reports
   */
  void abort(int status);

  /**
   * Returns whether sending a message wakes the receiving thread. When it does not (MPI), a
   * thread waiting for a message must poll for it.
   */
  default boolean wakesReceiver() {
    return false;
  }

  /**
   * Returns whether threads other than the communication thread may make this transport's calls,
   * one at a time. Not where an interrupted caller would break it (socket channels close).
   */
  default boolean anyThreadMayCall() {
    return false;
  }

  /**
   * Tells whether a rank of the pool ended without taking part in the orderly end, as far as
   * this transport can see (by heartbeats, and the process ids of spawned workers on this host;
   * MPI itself reports nothing in time).
   *
   * @return the rank that ended, or {@code null} while all are alive
   */
  default LostPeer lostPeer() {
    return null;
  }

  /**
   * Exchanges heartbeats with the ranks this one watches (a master its workers, a worker its
   * master), where the transport needs them to notice a lost rank; the communication thread
   * calls it on every pass of its loop.
   */
  default void exchangeHeartbeats() {
  }

  /**
   * Says how long the ranks this one watches have been silent, for messages about a job that is
   * ending; any thread.
   *
   * @return as in "rank 1 on node2 0.4 s, rank 2 on node3 4.1 s", or empty when the transport
   *     does not watch its ranks
   */
  default String heardFrom() {
    return "";
  }

  /**
   * A rank that ended unexpectedly.
   *
   * @param rank its rank
   * @param description what is known of it, for messages
   */
  record LostPeer(int rank, String description) {
  }

  /** A send in progress. */
  interface PendingSend {

    /** Returns whether the send is complete and its buffer may be reused. */
    boolean isComplete();
  }

  /** Receives messages from {@link #receive(int, MessageHandler)}. */
  @FunctionalInterface
  interface MessageHandler {

    /**
     * Handles one message.
     *
     * @param source the sender's rank
     * @param message the message: the buffer {@link #destinationFor} gave, or one valid only
     *     during this call
     */
    void onMessage(int source, ByteBuffer message);

    /**
     * Gives the buffer a message about to be received goes to, when the handler wants to keep it
     * (a part of a large payload): received there, it needs no copy.
     *
     * @param source the sender's rank
     * @param length the message's length
     * @return a direct buffer of at least {@code length} bytes, which gets the message from index
     *     0 (then its position 0 and limit {@code length}), or {@code null} for the transport's
     *     own buffer
     */
    default ByteBuffer destinationFor(int source, int length) {
      return null;
    }
  }

  /** Returns this machine's host name, for code that has no MPI to ask; {@code localhost} when it has none. */
  static String localHostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "localhost";
    }
  }
}
