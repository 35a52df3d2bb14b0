package org.jmpipool.internal.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import org.jmpipool.RemoteOrigin;
import org.jmpipool.RemoteTaskException;
import org.junit.jupiter.api.Test;

class ThrowableCodecTest {

  /** An exception that Java serialization cannot write: it holds a non-serializable field. */
  static final class Unshippable extends RuntimeException {
    private static final long serialVersionUID = 1L;
    @SuppressWarnings({"unused", "serial"})
    private final Object lock = new Object();

    Unshippable(String message, Throwable cause) {
      super(message, cause);
    }

    Unshippable(String message) {
      super(message);
    }
  }

  @Test
  void theSameClassComesBackWithMessageStackTraceCauseAndOrigin() {
    IOException cause = new IOException("disk full");
    IllegalStateException original = new IllegalStateException("task failed", cause);
    Throwable decoded = ThrowableCodec.decode(ThrowableCodec.encode(original, 3, "node7"));
    assertInstanceOf(IllegalStateException.class, decoded);
    assertEquals("task failed", decoded.getMessage());
    assertArrayEquals(original.getStackTrace(), decoded.getStackTrace());
    assertInstanceOf(IOException.class, decoded.getCause());
    RemoteOrigin origin = RemoteOrigin.of(decoded).orElseThrow();
    assertEquals(3, origin.workerRank());
    assertEquals("node7", origin.host());
  }

  @Test
  void anExceptionThatCannotBeSerializedComesBackAsRemoteTaskException() {
    Unshippable original = new Unshippable("no way", new ArithmeticException("/ by zero"));
    Throwable decoded = ThrowableCodec.decode(ThrowableCodec.encode(original, 1, "h"));
    RemoteTaskException remote = assertInstanceOf(RemoteTaskException.class, decoded);
    assertEquals(Unshippable.class.getName(), remote.remoteClassName());
    assertTrue(remote.getMessage().contains("no way"));
    assertArrayEquals(original.getStackTrace(), remote.getStackTrace());
    RemoteTaskException cause = assertInstanceOf(RemoteTaskException.class, remote.getCause());
    assertEquals(ArithmeticException.class.getName(), cause.remoteClassName());
    assertEquals(1, RemoteOrigin.of(decoded).orElseThrow().workerRank());
  }

  @Test
  void errorsAndCyclicCausesAreEncoded() {
    StackOverflowError error = new StackOverflowError();
    assertInstanceOf(StackOverflowError.class, ThrowableCodec.decode(ThrowableCodec.encode(error, 2, "h")));
    Unshippable a = new Unshippable("a");
    Unshippable b = new Unshippable("b", a);
    a.initCause(b);
    Throwable decoded = ThrowableCodec.decode(ThrowableCodec.encode(a, 2, "h"));
    assertEquals("b", ((RemoteTaskException) decoded.getCause()).getMessage().replace(Unshippable.class.getName() + ": ", ""));
  }

  static final class MessageOverflows extends RuntimeException {
    private static final long serialVersionUID = 1L;

    @Override
    public String getMessage() {
      return getMessage() + "!";
    }
  }

  static final class MessageThrowsError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    @Override
    public String getMessage() {
      throw new InternalError("no message");
    }
  }

  static final class TraceThrows extends RuntimeException {
    private static final long serialVersionUID = 1L;

    @Override
    public StackTraceElement[] getStackTrace() {
      throw new IllegalStateException("no trace");
    }
  }

  static final class CauseThrows extends RuntimeException {
    private static final long serialVersionUID = 1L;

    @Override
    public synchronized Throwable getCause() {
      throw new IllegalStateException("no cause");
    }
  }

  static final class WriteFails extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private void writeObject(java.io.ObjectOutputStream out) {
      throw new InternalError("cannot write");
    }
  }

  @Test
  void exceptionsWhoseMethodsMisbehaveAreDescribedInWords() {
    for (RuntimeException awkward : new RuntimeException[] {new MessageOverflows(), new MessageThrowsError(),
        new TraceThrows(), new CauseThrows(), new WriteFails()}) {
      Throwable decoded = ThrowableCodec.decode(ThrowableCodec.encode(awkward, 4, "h"));
      RemoteTaskException remote = assertInstanceOf(RemoteTaskException.class, decoded, awkward.getClass().getName());
      assertEquals(awkward.getClass().getName(), remote.remoteClassName());
      assertEquals(4, RemoteOrigin.of(decoded).orElseThrow().workerRank());
    }
  }

  @Test
  void aOneLineDescriptionNeverThrows() {
    assertEquals(MessageThrowsError.class.getName() + ": (its getMessage() threw java.lang.InternalError)",
        ThrowableCodec.safeToString(new MessageThrowsError()));
    assertEquals("java.io.IOException: disk", ThrowableCodec.safeToString(new IOException("disk")));
  }
}
