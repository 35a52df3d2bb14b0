package org.jmpipool.internal.wire;

import com.esotericsoftware.kryo.kryo5.Kryo;
import com.esotericsoftware.kryo.kryo5.Registration;
import com.esotericsoftware.kryo.kryo5.io.ByteBufferInput;
import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;
import com.esotericsoftware.kryo.kryo5.util.Pool;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;
import org.jmpipool.SerializableFunction;
import org.jmpipool.TaskSerializationException;

/**
 * Turns tasks and results into bytes and back with Kryo. Thread-safe: each call borrows a pooled
 * Kryo instance with its buffers, and a Kryo instance that failed mid-way is discarded rather
 * than returned (Kryo can be left in a bad state by an exception).
 *
 * <p>An encoding grows on the heap up to {@link Payload#PART_BYTES}; a larger one streams into
 * native parts of that size as it goes, so that its length has no limit but memory, and the
 * heap never holds a copy of it. Running out of memory fails the encoding (and so the task,
 * when it is submitted) with one line saying so.
 *
 * <p>Lists (map chunks and their results) whose elements all have one class are written with the
 * class once, then the bare elements, which roughly halves the cost of small elements.
 */
public final class Codec {

  /** Kryo's own switch for its use of {@code sun.misc.Unsafe}: only {@code false} turns it off. */
  public static final String KRYO_UNSAFE_PROPERTY = "kryo.unsafe";

  static {
    // Java 24+ prints a warning for sun.misc.Unsafe's memory access unless the JVM allows it:
    // an embedding JVM that did not say so gets Kryo's reflective field access instead. Kryo reads
    // this when its Util class loads, which the first Kryo instance (below) does.
    if (Runtime.version().feature() >= 24 && System.getProperty(KRYO_UNSAFE_PROPERTY) == null) {
      System.setProperty(KRYO_UNSAFE_PROPERTY, "false");
    }
  }

  /** An output buffer grown beyond this by a large object is not kept for reuse. */
  private static final int MAX_RETAINED_BUFFER = 4 << 20;
  private static final byte[] EMPTY = new byte[0];
  private static final ByteBuffer EMPTY_BUFFER = ByteBuffer.allocate(0);

  private final FunctionCache functions = new FunctionCache();
  private final Consumer<Kryo> extraSerializers;
  private final Pool<Session> sessions = new Pool<>(true, false, 256) {
    @Override
    protected Session create() {
      JdkAwareKryo kryo = new JdkAwareKryo();
      extraSerializers.accept(kryo);
      return new Session(kryo);
    }
  };

  /**
   * Creates a codec.
   *
   * @param extraSerializers registers the serializers of the runtime's own types that travel in
   *     user objects (stored-object handles) on each Kryo instance
   */
  public Codec(Consumer<Kryo> extraSerializers) {
    this.extraSerializers = extraSerializers;
  }

  /** A Kryo instance with its buffers. */
  private static final class Session {
    final JdkAwareKryo kryo;
    StreamingOutput output = new StreamingOutput();
    final Input input = new Input();
    final ByteBufferInput bufferInput = new ByteBufferInput();

    Session(JdkAwareKryo kryo) {
      this.kryo = kryo;
    }

    void resetOutput() {
      if (output.getBuffer().length > MAX_RETAINED_BUFFER) {
        output = new StreamingOutput();
      } else {
        output.reset();
      }
    }
  }

  /**
   * Kryo's output: a heap buffer that grows up to {@link Payload#PART_BYTES}, then hands each
   * full buffer to native parts instead of growing further. A large byte array Kryo writes
   * ({@code byte[]}, and every serializer that writes bytes in bulk) is not copied into the
   * buffer: it is borrowed, by reference, and copied once, straight into the native memory the
   * payload travels in, when the encoding's size is known. The borrowed arrays are the caller's
   * until the encoding returns.
   */
  private static final class StreamingOutput extends Output {
    /** Byte arrays at least this large are borrowed rather than copied into the buffer. */
    private static final int BORROW_BYTES = 16 * 1024;
    private final NativeParts parts;
    /** Borrowed arrays, in order, each at the buffer position where its bytes belong. */
    private final List<Borrowed> borrowed = new ArrayList<>();
    private long borrowedBytes;

    private record Borrowed(int at, byte[] bytes, int offset, int count) {
    }

    /** Where an encoding was: rewinding to it drops what was written after, borrowed arrays included. */
    record Mark(int position, int borrowed) {
    }

    StreamingOutput() {
      this(new NativeParts());
    }

    private StreamingOutput(NativeParts parts) {
      super(4096, Payload.PART_BYTES);
      this.parts = parts;
      setOutputStream(parts);
    }

    @Override
    public void writeBytes(byte[] bytes, int offset, int count) {
      if (count < BORROW_BYTES) {
        super.writeBytes(bytes, offset, count);
        return;
      }
      if (streamed()) {
        streamOut();
        parts.write(bytes, offset, count);
        total += count;
        return;
      }
      borrowed.add(new Borrowed(position, bytes, offset, count));
      borrowedBytes += count;
      if (position + borrowedBytes > maxCapacity) {
        streamOut();
      }
    }

    /** Kryo calls this when the buffer is full: it streams only once the buffer cannot grow. */
    @Override
    public void flush() {
      if (capacity == maxCapacity) {
        streamOut();
      }
    }

    @Override
    public void reset() {
      super.reset();
      borrowed.clear();
      borrowedBytes = 0;
    }

    Mark mark() {
      return new Mark(position, borrowed.size());
    }

    /** Drops what was written after a mark (an element that failed), when it is still in the buffer. */
    void rewind(Mark mark) {
      setPosition(mark.position());
      for (int i = borrowed.size() - 1; i >= mark.borrowed(); i--) {
        borrowedBytes -= borrowed.remove(i).count();
      }
    }

    /** Returns whether part of the encoding is in native parts already. */
    boolean streamed() {
      return total > 0;
    }

    /** The length of an encoding that did not stream: the buffer's bytes and the borrowed arrays. */
    long length() {
      return position + borrowedBytes;
    }

    /** Moves the buffer's bytes and the borrowed arrays, in order, to the native parts. */
    private void streamOut() {
      int from = 0;
      for (Borrowed array : borrowed) {
        parts.write(buffer, from, array.at() - from);
        parts.write(array.bytes(), array.offset(), array.count());
        from = array.at();
      }
      parts.write(buffer, from, position - from);
      total += position + borrowedBytes;
      position = 0;
      borrowed.clear();
      borrowedBytes = 0;
    }

    /** Copies an encoding that did not stream, in order, to a buffer, from its position. */
    void gatherInto(ByteBuffer target) {
      int from = 0;
      for (Borrowed array : borrowed) {
        target.put(buffer, from, array.at() - from).put(array.bytes(), array.offset(), array.count());
        from = array.at();
      }
      target.put(buffer, from, position - from);
    }

    /** Moves the rest of the encoding to the native parts and returns them. */
    Payload.Parts takeParts() {
      streamOut();
      return parts.take();
    }

    /** Frees the native parts of an encoding that failed. */
    void discardParts() {
      parts.discard();
    }
  }

  /** Native parts of {@link Payload#PART_BYTES}, filled in order. */
  private static final class NativeParts extends OutputStream {
    private final List<ByteBuffer> filled = new ArrayList<>();
    private ByteBuffer current;

    @Override
    public void write(int b) {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] bytes, int offset, int count) {
      while (count > 0) {
        if (current == null || !current.hasRemaining()) {
          if (current != null) {
            filled.add(current.flip());
          }
          current = null;
          current = DirectBuffers.acquire(Payload.PART_BYTES);
        }
        int n = Math.min(count, current.remaining());
        current.put(bytes, offset, n);
        offset += n;
        count -= n;
      }
    }

    Payload.Parts take() {
      if (current != null) {
        filled.add(current.flip());
        current = null;
      }
      Payload.Parts taken = new Payload.Parts(filled, false);
      filled.clear();
      return taken;
    }

    void discard() {
      filled.forEach(DirectBuffers::release);
      filled.clear();
      if (current != null) {
        DirectBuffers.release(current);
        current = null;
      }
    }
  }

  /** Writes objects into one payload. */
  @FunctionalInterface
  public interface Writer {
    void write(JdkAwareKryo kryo, Output output);
  }

  /** Reads objects from one payload. */
  @FunctionalInterface
  public interface Reader<T> {
    T read(JdkAwareKryo kryo, Input input);
  }

  /**
   * Creates a Kryo instance and round-trips a lambda and a list through it, so that the classes
   * involved are loaded and initialized before the first task needs them.
   */
  public void warmUp() {
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
   * @return the payload: small ones on the heap, larger ones in native memory, ready to travel
   * @throws TaskSerializationException when Kryo fails, or memory runs out
   */
  public Payload encode(String what, Object subject, Writer writer) {
    Session session = sessions.obtain();
    try {
      session.resetOutput();
      writer.write(session.kryo, session.output);
      Payload payload = session.output.streamed() ? session.output.takeParts() : gathered(session.output);
      release(session);
      return payload;
    } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
      session.output.discardParts();
      throw failedEncoding(what, subject, e);
    }
  }

  /**
   * Encodes into an exact array, for bytes that are kept rather than sent (stateless functions).
   *
   * @throws TaskSerializationException when Kryo fails, or the encoding exceeds {@link Payload#PART_BYTES}
   */
  byte[] encodeToArray(String what, Object subject, Writer writer) {
    Session session = sessions.obtain();
    try {
      session.resetOutput();
      writer.write(session.kryo, session.output);
      if (session.output.streamed()) {
        throw new TaskSerializationException("cannot serialize the " + what + " (" + className(subject)
            + "): it encodes to more than " + (Payload.PART_BYTES >> 20) + " MiB, the most it may", null);
      }
      ByteBuffer bytes = ByteBuffer.allocate((int) session.output.length());
      session.output.gatherInto(bytes);
      release(session);
      return bytes.array();
    } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
      session.output.discardParts();
      throw failedEncoding(what, subject, e);
    }
  }

  /**
   * The payload of an encoding that did not stream: on the heap when small; when large, in a
   * pooled direct buffer with the frame header's room in front, to travel as a message of its
   * own, the borrowed arrays copied straight into it.
   */
  private static Payload gathered(StreamingOutput output) {
    int length = (int) output.length();
    if (length < Wire.LARGE_PAYLOAD) {
      ByteBuffer bytes = ByteBuffer.allocate(length);
      output.gatherInto(bytes);
      return Payload.of(bytes.array());
    }
    ByteBuffer framed = DirectBuffers.acquire(Wire.HEADER_BYTES + length);
    framed.position(Wire.HEADER_BYTES);
    output.gatherInto(framed);
    framed.flip().position(Wire.HEADER_BYTES);
    return new Payload.Parts(List.of(framed), true);
  }

  private static TaskSerializationException failedEncoding(String what, Object subject, Throwable e) {
    if (e instanceof TaskSerializationException failure) {
      return failure;
    }
    if (e instanceof OutOfMemoryError) {
      return new TaskSerializationException("cannot serialize the " + what + " (" + className(subject)
          + "): this JVM has no memory left for its encoded form (" + e.getMessage() + "); a payload needs its own"
          + " size again in native memory, which Java 17 to 21 limit to -XX:MaxDirectMemorySize (by default -Xmx):"
          + " raise -Xmx, or that limit", e);
    }
    return new TaskSerializationException("cannot serialize the " + what + " (" + className(subject) + "): "
        + e.getMessage(), e);
  }

  /**
   * Decodes bytes kept as an array.
   *
   * @param what what is being decoded, for the error message
   * @param bytes the payload
   * @param reader reads the payload
   * @param <T> the decoded type
   * @return the decoded value
   * @throws TaskSerializationException when Kryo fails
   */
  public <T> T decode(String what, byte[] bytes, Reader<T> reader) {
    return decodeFrom(what, session -> {
      session.input.setBuffer(bytes);
      return session.input;
    }, reader);
  }

  /**
   * Decodes a payload where it lies (a received message, native parts), without copying it first.
   * The payload stays its holder's to release.
   *
   * @throws TaskSerializationException when Kryo fails, memory runs out, or the payload was lost
   */
  public <T> T decode(String what, Payload payload, Reader<T> reader) {
    if (payload instanceof Payload.Lost lost) {
      throw lost.failure(what);
    }
    return decodeFrom(what, session -> inputOf(session, payload), reader);
  }

  private static Input inputOf(Session session, Payload payload) {
    if (payload instanceof Payload.Bytes bytes) {
      ByteBuffer buffer = bytes.buffer();
      if (buffer.hasArray()) {
        session.input.setBuffer(buffer.array(), buffer.arrayOffset() + buffer.position(), buffer.remaining());
        return session.input;
      }
      session.bufferInput.setBuffer(buffer.slice());
      return session.bufferInput;
    }
    Payload.Parts parts = (Payload.Parts) payload;
    if (parts.buffers().size() == 1) {
      session.bufferInput.setBuffer(parts.buffers().get(0).slice());
      return session.bufferInput;
    }
    return new Input(parts.stream(), 1 << 16);
  }

  private <T> T decodeFrom(String what, Function<Session, Input> source, Reader<T> reader) {
    Session session = sessions.obtain();
    try {
      T value = reader.read(session.kryo, source.apply(session));
      release(session);
      return value;
    } catch (TaskSerializationException e) {
      throw e;
    } catch (OutOfMemoryError e) {
      throw new TaskSerializationException("cannot deserialize the " + what + ": this JVM has no memory left for it ("
          + e.getMessage() + "): raise -Xmx", e);
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

  public Payload encodeObject(String what, Object value) {
    return encode(what, value, (kryo, output) -> kryo.writeClassAndObject(output, value));
  }

  public Object decodeObject(String what, byte[] bytes) {
    return decode(what, bytes, JdkAwareKryo::readClassAndObject);
  }

  public Object decodeObject(String what, Payload payload) {
    return decode(what, payload, JdkAwareKryo::readClassAndObject);
  }

  /**
   * Writes the function of a task; a stateless one as its cached encoding, which the reader
   * decodes once.
   */
  public void writeFunction(JdkAwareKryo kryo, Output output, Object function) {
    boolean stateless = FunctionCache.isStateless(function);
    output.writeBoolean(stateless);
    if (stateless) {
      FunctionCache.write(output, FunctionCache.encoding(function, this));
    } else {
      writePart(kryo, output, "function", function);
    }
  }

  /** Reads a function written by {@link #writeFunction}. */
  public Object readFunction(JdkAwareKryo kryo, Input input) {
    if (input.readBoolean()) {
      return functions.read(input, this);
    }
    return kryo.readClassAndObject(input);
  }

  /**
   * Writes one object of a payload, naming it and its class if it cannot be written.
   *
   * @param what what the object is, for the error message ("function", "argument"...)
   */
  public static void writePart(JdkAwareKryo kryo, Output output, String what, Object value) {
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
   * already written are kept; when they no longer fit in Kryo's buffer (they streamed out), the
   * whole list fails instead.
   *
   * @return the index of the element that could not be written, or -1 when all were written
   */
  public static int writeList(JdkAwareKryo kryo, Output output, List<?> values, StringBuilder failure) {
    long streamedBefore = streamed(output);
    StreamingOutput rewindable = (StreamingOutput) output;
    int countPosition = output.position();
    output.writeInt(values.size());
    Class<?> common = commonClass(values);
    output.writeBoolean(common != null);
    Registration registration = common == null ? null : kryo.writeClass(output, common);
    int written = 0;
    for (Object value : values) {
      StreamingOutput.Mark before = rewindable.mark();
      try {
        if (registration != null) {
          kryo.writeObject(output, value, registration.getSerializer());
        } else {
          kryo.writeClassAndObject(output, value);
        }
      } catch (RuntimeException | StackOverflowError e) {
        kryo.markDamaged();
        String why = "cannot serialize element " + written + " (" + className(value) + "): " + e.getMessage();
        if (streamed(output) != streamedBefore) {
          throw new TaskSerializationException(why, e);
        }
        rewindable.rewind(before);
        failure.append(why);
        break;
      }
      written++;
    }
    if (written < values.size()) {
      int end = output.position();
      output.setPosition(countPosition);
      output.writeInt(written);
      output.setPosition(end);
      return written;
    }
    return -1;
  }

  /** How many bytes of an encoding have left Kryo's buffer for native parts. */
  private static long streamed(Output output) {
    return output.total() - output.position();
  }

  /**
   * Reads a list written by {@link #writeList}. An element that cannot be read ends the list: the
   * elements before it are returned and {@code failure} gets the error.
   */
  @SuppressWarnings("unchecked")
  public static List<Object> readList(JdkAwareKryo kryo, Input input, RuntimeException[] failure) {
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
