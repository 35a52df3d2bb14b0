package org.jmpipool.internal.wire;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.ObjectStreamClass;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.IdentityHashMap;
import java.util.Map;
import org.jmpipool.RemoteOrigin;
import org.jmpipool.RemoteTaskException;

/**
 * Carries a task's exception from a worker to the master. Two forms travel together: the
 * exception in Java serialization (so it comes back as the same class with all its fields) and a
 * plain description (class names, messages, stack traces, causes, suppressed), from which a
 * {@link RemoteTaskException} is built when the first form cannot be read here. Kryo is not used:
 * it cannot serialize {@link Throwable} on JDK 17.
 *
 * <p>Exceptions are user classes and may misbehave: a {@code getMessage()} that throws or
 * overflows the stack, a {@code toString()}, {@code getStackTrace()} or {@code getCause()} that
 * throws, a failing {@code writeObject}. Every such call is guarded; an exception found misbehaving travels only as
 * its description, so that nothing on the master trips over it again.
 *
 * <p>Threads: any: a task thread encodes, whoever completes the future decodes.
 */
public final class ThrowableCodec {

  private static final int MAX_DEPTH = 32;

  private ThrowableCodec() {
  }

  /**
   * Encodes an exception. Never fails: what cannot be encoded is described in words.
   *
   * @param failure the exception
   * @param workerRank the rank of the worker where it was thrown
   * @param host the worker's host
   * @return the payload
   */
  public static byte[] encode(Throwable failure, int workerRank, String host) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(512);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(workerRank);
      writeString(out, host);
      Description description = new Description();
      describe(out, failure, description, 0);
      byte[] serialized = description.awkward ? new byte[0] : javaSerialize(failure);
      out.writeInt(serialized.length);
      out.write(serialized);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /**
   * Returns the exception itself when its methods behave, else its description: what a pool
   * that hands exceptions over without serializing them passes on, so that the caller's
   * {@code get()} (whose {@code ExecutionException} calls {@code toString()}) does not trip.
   *
   * @param failure the exception
   * @param workerRank the rank of the worker where it was thrown
   * @param host the worker's host
   * @return the exception, or a {@link RemoteTaskException} describing it
   */
  public static Throwable wellBehaved(Throwable failure, int workerRank, String host) {
    Description description = new Description();
    try {
      describe(new DataOutputStream(OutputStream.nullOutputStream()), failure, description, 0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return description.awkward ? decode(encode(failure, workerRank, host)) : failure;
  }

  /** What describing an exception found: the exceptions seen (cycles), and whether any misbehaved. */
  private static final class Description {
    final Map<Throwable, Boolean> seen = new IdentityHashMap<>();
    boolean awkward;
  }

  /**
   * Names an exception in one line for the runtime's own messages, whatever its methods do
   * (its {@code toString()} may throw).
   *
   * @param failure the exception
   * @return its class name and, when it can be read, its message
   */
  public static String safeToString(Throwable failure) {
    String message = message(failure, new Description());
    return message == null ? failure.getClass().getName() : failure.getClass().getName() + ": " + message;
  }

  /**
   * Rebuilds an exception from a frame's payload; the caller still holds the payload, and
   * releases it.
   *
   * @param encoded the encoded exception
   * @return the exception, of the original class when it can be rebuilt here
   */
  public static Throwable decode(Payload encoded) {
    try {
      return decode(encoded.toArray());
    } catch (IllegalStateException unreadable) {
      return new RemoteTaskException("unreadable remote exception", unreadable.getMessage());
    }
  }

  /**
   * Rebuilds an exception and attaches a {@link RemoteOrigin} naming the worker.
   *
   * @param payload the encoded exception
   * @return the exception, of the original class when it can be rebuilt here
   */
  public static Throwable decode(byte[] payload) {
    Throwable failure;
    int workerRank = -1;
    String host = "unknown";
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(payload))) {
      workerRank = in.readInt();
      host = readString(in);
      Throwable described = rebuild(in);
      byte[] serialized = new byte[in.readInt()];
      in.readFully(serialized);
      Throwable original = javaDeserialize(serialized);
      failure = original != null ? original : described;
    } catch (IOException | RuntimeException e) {
      failure = new RemoteTaskException("unreadable remote exception", e.toString());
    }
    failure.addSuppressed(new RemoteOrigin(workerRank, host));
    return failure;
  }

  private static void describe(DataOutputStream out, Throwable failure, Description description, int depth)
      throws IOException {
    boolean present = failure != null && depth < MAX_DEPTH && description.seen.put(failure, Boolean.TRUE) == null;
    out.writeBoolean(present);
    if (!present) {
      return;
    }
    writeString(out, failure.getClass().getName());
    writeString(out, message(failure, description));
    probeToString(failure, description);
    StackTraceElement[] trace = stackTrace(failure, description);
    out.writeInt(trace.length);
    for (StackTraceElement element : trace) {
      writeString(out, element.getClassLoaderName());
      writeString(out, element.getModuleName());
      writeString(out, element.getModuleVersion());
      writeString(out, element.getClassName());
      writeString(out, element.getMethodName());
      writeString(out, element.getFileName());
      out.writeInt(element.getLineNumber());
    }
    describe(out, cause(failure, description), description, depth + 1);
    Throwable[] suppressed = failure.getSuppressed();
    out.writeInt(suppressed.length);
    for (Throwable s : suppressed) {
      describe(out, s, description, depth + 1);
    }
  }

  private static Throwable rebuild(DataInputStream in) throws IOException {
    if (!in.readBoolean()) {
      return null;
    }
    RemoteTaskException failure = new RemoteTaskException(readString(in), readString(in));
    StackTraceElement[] trace = new StackTraceElement[in.readInt()];
    for (int i = 0; i < trace.length; i++) {
      trace[i] = new StackTraceElement(readString(in), readString(in), readString(in), readString(in),
          readString(in), readString(in), in.readInt());
    }
    failure.setStackTrace(trace);
    Throwable cause = rebuild(in);
    if (cause != null) {
      failure.initCause(cause);
    }
    int suppressed = in.readInt();
    for (int i = 0; i < suppressed; i++) {
      Throwable s = rebuild(in);
      if (s != null) {
        failure.addSuppressed(s);
      }
    }
    return failure;
  }

  // The guards below catch Throwable on purpose: the methods are the task's code, and whatever
  // they throw (errors included) must not take the worker's task thread down with them.

  private static String message(Throwable failure, Description description) {
    try {
      return failure.getMessage();
    } catch (Throwable e) {
      description.awkward = true;
      return "(its getMessage() threw " + e.getClass().getName() + ")";
    }
  }

  /** A toString() that throws would trip up whoever prints the exception on the master. */
  private static void probeToString(Throwable failure, Description description) {
    try {
      failure.toString();
    } catch (Throwable e) {
      description.awkward = true;
    }
  }

  private static StackTraceElement[] stackTrace(Throwable failure, Description description) {
    try {
      StackTraceElement[] trace = failure.getStackTrace();
      return trace != null ? trace : new StackTraceElement[0];
    } catch (Throwable e) {
      description.awkward = true;
      return new StackTraceElement[0];
    }
  }

  private static Throwable cause(Throwable failure, Description description) {
    try {
      return failure.getCause();
    } catch (Throwable e) {
      description.awkward = true;
      return null;
    }
  }

  private static byte[] javaSerialize(Throwable failure) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(1024);
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(failure);
    } catch (Throwable e) {
      return new byte[0];
    }
    return bytes.toByteArray();
  }

  private static Throwable javaDeserialize(byte[] serialized) {
    if (serialized.length == 0) {
      return null;
    }
    try (ObjectInputStream in = new ContextClassLoaderObjectInputStream(new ByteArrayInputStream(serialized))) {
      return (Throwable) in.readObject();
    } catch (Throwable e) {
      return null;
    }
  }

  private static void writeString(DataOutputStream out, String value) throws IOException {
    if (value == null) {
      out.writeInt(-1);
      return;
    }
    byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
    out.writeInt(utf8.length);
    out.write(utf8);
  }

  private static String readString(DataInputStream in) throws IOException {
    int length = in.readInt();
    if (length < 0) {
      return null;
    }
    byte[] utf8 = new byte[length];
    in.readFully(utf8);
    return new String(utf8, StandardCharsets.UTF_8);
  }

  /** Resolves classes through the context class loader, where an application's classes live. */
  private static final class ContextClassLoaderObjectInputStream extends ObjectInputStream {

    ContextClassLoaderObjectInputStream(ByteArrayInputStream in) throws IOException {
      super(in);
    }

    @Override
    protected Class<?> resolveClass(ObjectStreamClass desc) throws IOException, ClassNotFoundException {
      ClassLoader loader = Thread.currentThread().getContextClassLoader();
      if (loader == null) {
        return super.resolveClass(desc);
      }
      try {
        return Class.forName(desc.getName(), false, loader);
      } catch (ClassNotFoundException e) {
        return super.resolveClass(desc);
      }
    }
  }
}
