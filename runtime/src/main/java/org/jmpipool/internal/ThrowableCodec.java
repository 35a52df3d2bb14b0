package org.jmpipool.internal;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.ObjectStreamClass;
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
 */
final class ThrowableCodec {

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
  static byte[] encode(Throwable failure, int workerRank, String host) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(512);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(workerRank);
      writeString(out, host);
      describe(out, failure, new IdentityHashMap<>(), 0);
      byte[] serialized = javaSerialize(failure);
      out.writeInt(serialized.length);
      out.write(serialized);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /**
   * Rebuilds an exception and attaches a {@link RemoteOrigin} naming the worker.
   *
   * @param payload the encoded exception
   * @return the exception, of the original class when it can be rebuilt here
   */
  static Throwable decode(byte[] payload) {
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
    } catch (IOException e) {
      failure = new RemoteTaskException("unreadable remote exception", e.toString());
    }
    failure.addSuppressed(new RemoteOrigin(workerRank, host));
    return failure;
  }

  private static void describe(DataOutputStream out, Throwable failure, Map<Throwable, Boolean> seen, int depth)
      throws IOException {
    boolean present = failure != null && depth < MAX_DEPTH && seen.put(failure, Boolean.TRUE) == null;
    out.writeBoolean(present);
    if (!present) {
      return;
    }
    writeString(out, failure.getClass().getName());
    writeString(out, safeMessage(failure));
    StackTraceElement[] trace = failure.getStackTrace();
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
    describe(out, failure.getCause(), seen, depth + 1);
    Throwable[] suppressed = failure.getSuppressed();
    out.writeInt(suppressed.length);
    for (Throwable s : suppressed) {
      describe(out, s, seen, depth + 1);
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

  private static String safeMessage(Throwable failure) {
    try {
      return failure.getMessage();
    } catch (RuntimeException e) {
      return "(getMessage() threw " + e + ")";
    }
  }

  private static byte[] javaSerialize(Throwable failure) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(1024);
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(failure);
    } catch (IOException | RuntimeException | StackOverflowError e) {
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
    } catch (IOException | ClassNotFoundException | RuntimeException | LinkageError e) {
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
