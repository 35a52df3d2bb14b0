package org.jmpipool.internal.transport;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;

/**
 * Messages over a local socket between a pool's master and the relay rank of its workers' MPI job
 * ({@link RelayedTransport}, {@link RelayLink}): each a header (the peer rank, the channel, the
 * length) and the message's bytes. The {@link #CONTROL} channel carries the two ends' own
 * messages, their kind in the peer field. Neither reading nor writing blocks: a message is
 * written as far as the socket takes it and finished by later {@link #flush()} calls, and read
 * as far as it has arrived.
 *
 * <p>Threads: one, the communication thread of its end.
 */
final class FramedSocket implements AutoCloseable {

  static final int HEADER_BYTES = 12;
  /** The channel of the ends' own messages. */
  static final int CONTROL = -1;
  /** Relay to master, first: the job's size (an int). */
  static final int HELLO = 1;
  /** Relay to master: a worker was lost; its rank (an int), then what is known (UTF-8). */
  static final int LOST = 2;
  /** Master to relay: the workers have stopped; end the job in order. */
  static final int FINISH = 3;

  private final SocketChannel socket;
  private final ArrayDeque<Outgoing> outgoing = new ArrayDeque<>();
  private final ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES);
  private Frame arriving;

  /** Where the bytes of an arriving message go. */
  @FunctionalInterface
  interface Destinations {

    /** Returns a buffer of at least {@code length} bytes for a message; it is filled from index 0. */
    ByteBuffer bufferFor(int peer, int channel, int length);
  }

  /** A message read in full, or being read; its body has position 0 and limit its length once complete. */
  static final class Frame {
    final int peer;
    final int channel;
    final ByteBuffer body;

    Frame(int peer, int channel, ByteBuffer body) {
      this.peer = peer;
      this.channel = channel;
      this.body = body;
    }
  }

  /** A message being written. */
  static final class Outgoing implements Transport.PendingSend {
    private final ByteBuffer[] parts;
    private boolean complete;

    Outgoing(ByteBuffer[] parts) {
      this.parts = parts;
    }

    @Override
    public boolean isComplete() {
      return complete;
    }
  }

  FramedSocket(SocketChannel socket) throws IOException {
    this.socket = socket;
    socket.configureBlocking(false);
  }

  /**
   * Starts writing a message; the caller keeps its buffer untouched until the returned handle is
   * complete.
   *
   * @param message its first {@code length} bytes are sent, whatever its position
   */
  Outgoing send(int peer, int channel, ByteBuffer message, int length) throws IOException {
    ByteBuffer head = ByteBuffer.allocate(HEADER_BYTES).putInt(peer).putInt(channel).putInt(length).flip();
    Outgoing sent = new Outgoing(new ByteBuffer[] {head, message.duplicate().clear().limit(length)});
    outgoing.add(sent);
    flush();
    return sent;
  }

  /**
   * Writes as much of the waiting messages as the socket takes now.
   *
   * @return whether anything was written
   * @throws IOException when the other end is gone
   */
  boolean flush() throws IOException {
    boolean wrote = false;
    while (!outgoing.isEmpty()) {
      Outgoing next = outgoing.peek();
      wrote |= socket.write(next.parts) > 0;
      if (next.parts[1].hasRemaining()) {
        return wrote;
      }
      next.complete = true;
      outgoing.poll();
    }
    return wrote;
  }

  /** Returns whether messages wait to be written. */
  boolean sending() {
    return !outgoing.isEmpty();
  }

  /**
   * Reads what has arrived of the next message.
   *
   * @return the message once it is complete, else {@code null}
   * @throws EOFException when the other end closed the socket
   * @throws IOException when reading fails
   */
  Frame poll(Destinations destinations) throws IOException {
    if (arriving == null) {
      read(header);
      if (header.hasRemaining()) {
        return null;
      }
      int peer = header.getInt(0);
      int channel = header.getInt(4);
      int length = header.getInt(8);
      header.clear();
      arriving = new Frame(peer, channel, destinations.bufferFor(peer, channel, length).clear().limit(length));
    }
    if (arriving.body.hasRemaining()) {
      read(arriving.body);
      if (arriving.body.hasRemaining()) {
        return null;
      }
    }
    Frame complete = arriving;
    arriving = null;
    complete.body.flip();
    return complete;
  }

  private int read(ByteBuffer into) throws IOException {
    int read = socket.read(into);
    if (read < 0) {
      throw new EOFException("the other end closed the connection");
    }
    return read;
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException ignored) {
      // Closing only releases the descriptor; the other end notices either way.
    }
  }
}
