package org.jmpipool.internal;

import com.esotericsoftware.kryo.kryo5.Registration;
import com.esotericsoftware.kryo.kryo5.io.ByteBufferInput;
import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;
import com.esotericsoftware.kryo.kryo5.util.Pool;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import org.jmpipool.SerializableFunction;
import org.jmpipool.TaskSerializationException;

/**
 * Turns tasks and results into bytes and back with Kryo. Thread-safe: each call borrows a pooled
 * Kryo instance with its buffers, and a Kryo instance that failed mid-way is discarded rather
 * than returned (Kryo can be left in a bad state by an exception).
 *
 * <p>Lists (map chunks and their results) whose elements all have one class are written with the
 * class once, then the bare elements, which roughly halves the cost of small elements.
 */
final class Codec {

  /** An output buffer grown beyond this by a large object is not kept for reuse. */
  private static final int MAX_RETAINED_BUFFER = 4 << 20;
  private static final byte[] EMPTY = new byte[0];
  private static final ByteBuffer EMPTY_BUFFER = ByteBuffer.allocate(0);

  private final FunctionCache functions = new FunctionCache();
  private final Pool<Session> sessions = new Pool<>(true, false, 256) {
    @Override
    protected Session create() {
      return new Session();
    }
  };

  /** A Kryo instance with its buffers. */
  private static final class Session {
    final JdkAwareKryo kryo = new JdkAwareKryo();
    Output output = new Output(4096, -1);
    final Input input = new Input();
    final ByteBufferInput bufferInput = new ByteBufferInput();

    void resetOutput() {
      if (output.getBuffer().length > MAX_RETAINED_BUFFER) {
        output = new Output(4096, -1);
      } else {
        output.reset();
      }
    }
  }

  /** Writes objects into one payload. */
  @FunctionalInterface
  interface Writer {
    void write(JdkAwareKryo kryo, Output output);
  }

  /** Reads objects from one payload. */
  @FunctionalInterface
  interface Reader<T> {
    T read(JdkAwareKryo kryo, Input input);
  }

  /**
   * Creates a Kryo instance and round-trips a lambda and a list through it, so that the classes
   * involved are loaded and initialized before the first task needs them.
   */
  void warmUp() {
    SerializableFunction<List<Integer>, Integer> function = List::size;
    List<Integer> values = List.of(1, 2, 3);
    byte[] bytes = encodeToArray("warm-up", function, (kryo, output) -> {
      writeFunction(kryo, output, function);
      writeList(kryo, output, values, new StringBuilder());
    });
    decode("warm-up", bytes, (kryo, input) -> {
      readFunction(kryo, input);
      return readList(kryo, input, new RuntimeException[1]);
    });
  }

  /**
   * Encodes a payload.
   *
   * @param what what is being encoded, for the error message ("task", "result"...)
   * @param subject the object whose class the error message names
   * @param writer writes the payload
   * @return the payload ({@link Wire#payloadOf}: large ones ready to travel on their own)
   * @throws TaskSerializationException when Kryo fails
   */
  ByteBuffer encode(String what, Object subject, Writer writer) {
    return encodeWith(what, subject, writer, Wire::payloadOf);
  }

  /** Encodes into an exact array, for bytes that are kept rather than sent. */
  byte[] encodeToArray(String what, Object subject, Writer writer) {
    return encodeWith(what, subject, writer, Arrays::copyOf);
  }

  /** Makes the result of an encoding from the encoder's buffer, which is reused afterwards. */
  @FunctionalInterface
  private interface Encoded<P> {
    P copy(byte[] buffer, int length);
  }

  private <P> P encodeWith(String what, Object subject, Writer writer, Encoded<P> encoded) {
    Session session = sessions.obtain();
    try {
      session.resetOutput();
      writer.write(session.kryo, session.output);
      P result = encoded.copy(session.output.getBuffer(), session.output.position());
      release(session);
      return result;
    } catch (TaskSerializationException e) {
      throw e;
    } catch (RuntimeException | StackOverflowError e) {
      throw new TaskSerializationException(
          "cannot serialize the " + what + " (" + className(subject) + "): " + e.getMessage(), e);
    }
  }

  /**
   * Decodes a payload.
   *
   * @param what what is being decoded, for the error message
   * @param bytes the payload
   * @param reader reads the payload
   * @param <T> the decoded type
   * @return the decoded value
   * @throws TaskSerializationException when Kryo fails
   */
  <T> T decode(String what, byte[] bytes, Reader<T> reader) {
    return decodeFrom(what, session -> {
      session.input.setBuffer(bytes);
      return session.input;
    }, reader);
  }

  /**
   * Decodes a payload that lies in a message buffer, without copying it out first.
   *
   * @param message the message, positioned at the payload (left unchanged)
   * @param length the payload length
   */
  <T> T decode(String what, ByteBuffer message, int length, Reader<T> reader) {
    return decodeFrom(what, session -> {
      session.bufferInput.setBuffer(message.slice(message.position(), length));
      return session.bufferInput;
    }, reader);
  }

  private <T> T decodeFrom(String what, Function<Session, Input> source, Reader<T> reader) {
    Session session = sessions.obtain();
    try {
      T value = reader.read(session.kryo, source.apply(session));
      release(session);
      return value;
    } catch (TaskSerializationException e) {
      throw e;
    } catch (RuntimeException | LinkageError | StackOverflowError e) {
      throw new TaskSerializationException("cannot deserialize the " + what + ": " + e.getMessage(), e);
    }
  }

  /** Returns a session to the pool, without references to the last payload; a damaged one is dropped. */
  private void release(Session session) {
    session.input.setBuffer(EMPTY);
    session.bufferInput.setBuffer(EMPTY_BUFFER);
    if (!session.kryo.damaged()) {
      sessions.free(session);
    }
  }

  ByteBuffer encodeObject(String what, Object value) {
    return encode(what, value, (kryo, output) -> kryo.writeClassAndObject(output, value));
  }

  Object decodeObject(String what, byte[] bytes) {
    return decode(what, bytes, JdkAwareKryo::readClassAndObject);
  }

  /**
   * Writes the function of a task; a stateless one as its cached encoding, which the reader
   * decodes once.
   */
  void writeFunction(JdkAwareKryo kryo, Output output, Object function) {
    boolean stateless = FunctionCache.isStateless(function);
    output.writeBoolean(stateless);
    if (stateless) {
      byte[] bytes = FunctionCache.encoding(function, this);
      output.writeInt(bytes.length);
      output.writeBytes(bytes);
    } else {
      writePart(kryo, output, "function", function);
    }
  }

  /** Reads a function written by {@link #writeFunction}. */
  Object readFunction(JdkAwareKryo kryo, Input input) {
    if (input.readBoolean()) {
      return functions.decode(input.readBytes(input.readInt()), this);
    }
    return kryo.readClassAndObject(input);
  }

  /**
   * Writes one object of a payload, naming it and its class if it cannot be written.
   *
   * @param what what the object is, for the error message ("function", "argument"...)
   */
  static void writePart(JdkAwareKryo kryo, Output output, String what, Object value) {
    try {
      kryo.writeClassAndObject(output, value);
    } catch (RuntimeException | StackOverflowError e) {
      kryo.markDamaged();
      throw new TaskSerializationException(
          "cannot serialize the " + what + " (" + className(value) + "): " + e.getMessage(), e);
    }
  }

  /**
   * Writes a list as a count, then the elements (the class once when all share it). A failure on
   * one element rewinds to the elements before it and reports its index, so that the elements
   * already written are kept.
   *
   * @return the index of the element that could not be written, or -1 when all were written
   */
  static int writeList(JdkAwareKryo kryo, Output output, List<?> values, StringBuilder failure) {
    int countPosition = output.position();
    output.writeInt(0);
    Class<?> common = commonClass(values);
    output.writeBoolean(common != null);
    Registration registration = common == null ? null : kryo.writeClass(output, common);
    int written = 0;
    for (Object value : values) {
      int before = output.position();
      try {
        if (registration != null) {
          kryo.writeObject(output, value, registration.getSerializer());
        } else {
          kryo.writeClassAndObject(output, value);
        }
      } catch (RuntimeException | StackOverflowError e) {
        kryo.markDamaged();
        output.setPosition(before);
        failure.append("cannot serialize element ").append(written).append(" (")
            .append(className(value)).append("): ").append(e.getMessage());
        break;
      }
      written++;
    }
    int end = output.position();
    output.setPosition(countPosition);
    output.writeInt(written);
    output.setPosition(end);
    return written == values.size() ? -1 : written;
  }

  /**
   * Reads a list written by {@link #writeList}. An element that cannot be read ends the list: the
   * elements before it are returned and {@code failure} gets the error.
   */
  @SuppressWarnings("unchecked")
  static List<Object> readList(JdkAwareKryo kryo, Input input, RuntimeException[] failure) {
    int count = input.readInt();
    boolean common = input.readBoolean();
    List<Object> values = new ArrayList<>(count);
    try {
      Registration registration = common ? kryo.readClass(input) : null;
      for (int i = 0; i < count; i++) {
        values.add(registration != null
            ? kryo.readObject(input, registration.getType(), registration.getSerializer())
            : kryo.readClassAndObject(input));
      }
    } catch (RuntimeException | LinkageError e) {
      kryo.markDamaged();
      failure[0] = new TaskSerializationException(
          "cannot deserialize element " + values.size() + ": " + e.getMessage(), e);
    }
    return values;
  }

  private static Class<?> commonClass(List<?> values) {
    if (values.isEmpty() || values.get(0) == null) {
      return null;
    }
    Class<?> first = values.get(0).getClass();
    for (Object value : values) {
      if (value == null || value.getClass() != first) {
        return null;
      }
    }
    return first;
  }

  static String className(Object value) {
    return value == null ? "null" : value.getClass().getName();
  }
}
