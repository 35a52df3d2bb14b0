package org.jmpipool.internal.transport;

import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The relay's end of the socket to the master of a pool on other hosts ({@link RelayedTransport}
 * is the master's): the relay, rank 0 of the workers' MPI job, passes the master's messages on to
 * the workers, theirs to the master, and tells the master of a worker its heartbeats lost.
 *
 * <p>Threads: the relay's communication thread, only.
 */
public final class RelayLink implements AutoCloseable {

  /** How many messages one {@link #receive} call passes on at most, so that the other way is served too. */
  private static final int MAX_MESSAGES_PER_CALL = 64;
  /** How long the relay's own message may take to be written. */
  private static final long CONTROL_WRITE_NANOS = TimeUnit.SECONDS.toNanos(10);

  private final FramedSocket socket;
  /** Whether the master said finish, its last word: nothing is read after it. */
  private boolean finished;

  /** Takes what the master sends. */
  public interface Receiver {

    /**
     * Gives the buffer a message for a worker is read into.
     *
     * @return a direct buffer of at least {@code length} bytes; by default a new one of {@link NativeMemory}
     */
    default ByteBuffer bufferFor(int length) {
      return NativeMemory.allocate(length);
    }

    /**
     * A message for a worker.
     *
     * @param message the buffer {@link #bufferFor} gave, now holding the message (position 0,
     *     limit its length)
     */
    void forward(int worker, int channel, ByteBuffer message);

    /** The master says its workers have stopped: the job may end in order. */
    void finish();
  }

  private RelayLink(FramedSocket socket) {
    this.socket = socket;
  }

  /**
   * Connects to the master and tells it the job's size.
   *
   * @param path the master's socket, on this host
   * @param size the number of ranks of the job, this relay included
   * @throws TransportException when the master cannot be reached
   */
  public static RelayLink connect(Path path, int size) {
    try {
      SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
      channel.connect(UnixDomainSocketAddress.of(path));
      RelayLink link = new RelayLink(new FramedSocket(channel));
      link.sendControl(FramedSocket.HELLO, ByteBuffer.allocateDirect(4).putInt(0, size));
      return link;
    } catch (IOException e) {
      throw new TransportException("cannot reach the pool's master at " + path + " (this relay must run on the"
          + " master's host): " + e.getMessage(), e);
    }
  }

  /**
   * Reads what the master sent and hands it over; nothing once the master said finish.
   *
   * @return how many messages were handed over
   * @throws TransportException when the master is gone
   */
  public int receive(Receiver receiver) {
    if (finished) {
      return 0;
    }
    int handed = 0;
    try {
      FramedSocket.Frame frame;
      while (handed < MAX_MESSAGES_PER_CALL
          && (frame = socket.poll((peer, channel, length) -> channel == FramedSocket.CONTROL
              ? ByteBuffer.allocate(length) : receiver.bufferFor(length))) != null) {
        handed++;
        if (frame.channel == FramedSocket.CONTROL) {
          if (frame.peer == FramedSocket.FINISH) {
            // The master may close the socket as soon as the job ends: reading on would take that for
            // the master going away.
            finished = true;
            receiver.finish();
            return handed;
          }
        } else {
          receiver.forward(frame.peer, frame.channel, frame.body);
        }
      }
    } catch (EOFException e) {
      throw new TransportException("the pool's master went away");
    } catch (IOException e) {
      throw new TransportException("the connection to the pool's master failed: " + e.getMessage(), e);
    }
    return handed;
  }

  /**
   * Starts passing a worker's message to the master.
   *
   * @param message a direct buffer the caller keeps untouched until the send is complete
   */
  public Transport.PendingSend toMaster(int source, int channel, ByteBuffer message, int length) {
    try {
      return socket.send(source, channel, message, length);
    } catch (IOException e) {
      throw new TransportException("the pool's master went away: " + e.getMessage(), e);
    }
  }

  /** Tells the master that a worker was lost, and what is known of it. */
  public void lost(Transport.LostPeer peer) {
    byte[] description = peer.description().getBytes(StandardCharsets.UTF_8);
    ByteBuffer message = ByteBuffer.allocateDirect(4 + description.length).putInt(peer.rank()).put(description);
    sendControl(FramedSocket.LOST, message);
  }

  /**
   * Writes what waits to be written, as far as the socket takes it.
   *
   * @return whether anything was written
   */
  public boolean flush() {
    try {
      return socket.flush();
    } catch (IOException e) {
      throw new TransportException("the pool's master went away: " + e.getMessage(), e);
    }
  }

  /** Returns whether messages wait to be written to the master. */
  public boolean sending() {
    return socket.sending();
  }

  /**
   * The relay's own messages are short, and come before or instead of the workers' next ones:
   * written at once, within a bound (the master reads on every pass of its loop).
   */
  private void sendControl(int kind, ByteBuffer message) {
    try {
      Transport.PendingSend sent = socket.send(kind, FramedSocket.CONTROL, message, message.capacity());
      long deadline = System.nanoTime() + CONTROL_WRITE_NANOS;
      while (!sent.isComplete()) {
        if (System.nanoTime() > deadline) {
          throw new TransportException("the pool's master read nothing from its socket for "
              + TimeUnit.NANOSECONDS.toSeconds(CONTROL_WRITE_NANOS) + " s");
        }
        LockSupport.parkNanos(100_000);
        socket.flush();
      }
    } catch (IOException e) {
      throw new TransportException("the pool's master went away: " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    socket.close();
  }
}
