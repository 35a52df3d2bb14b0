package org.jmpipool.internal.wire;

import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Functions that hold no state (non-capturing lambdas, static method references, classes without
 * instance fields) are encoded once per class on the master and decoded once per worker, instead
 * of once per task: a map sends its function with every chunk, and {@code submit(fn, arg)} with
 * every call. Every instance of such a class is equivalent, so sharing one decoded instance
 * between tasks changes nothing but the cost.
 *
 * <p>Such a function travels as its encoding with a 128-bit fingerprint of it, computed once per
 * class. A reader that decoded that fingerprint before skips the encoding and takes the instance
 * it keeps: a task costs the reader a table lookup, with no lock, no hashing of bytes and no
 * allocation. The fingerprint is two FNV-1a hashes with different starting values, each mixed
 * by SplitMix64's finalizer: not cryptographic (encodings are not adversarial), and computed
 * without {@code MessageDigest}, whose first use reads the JVM's security files while MPI may
 * still be starting on another thread and changing the process's environment (a JVM reading
 * the environment then crashed in {@code getenv}).
 *
 * <p>Threads: any. Encodings are cached per class; decoded functions in a table whose slots are
 * replaced whole, so two threads decoding the same function at once only decode it twice.
 */
final class FunctionCache {

  private static final long FNV_OFFSET = 0xcbf29ce484222325L;
  private static final long FNV_PRIME = 0x100000001b3L;
  /** Slots of the decoded table: a power of two; a function whose slot is taken replaces the other. */
  private static final int SLOTS = 256;

  private static final ClassValue<Boolean> STATELESS = new ClassValue<>() {
    @Override
    protected Boolean computeValue(Class<?> type) {
      for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
        for (Field field : c.getDeclaredFields()) {
          if (!Modifier.isStatic(field.getModifiers())) {
            return false;
          }
        }
      }
      return true;
    }
  };

  /** Per class of stateless function, its encoding, made on first use by whichever codec meets it. */
  private static final ClassValue<Encoding[]> ENCODED = new ClassValue<>() {
    @Override
    protected Encoding[] computeValue(Class<?> type) {
      return new Encoding[1];
    }
  };

  private final AtomicReferenceArray<Decoded> decoded = new AtomicReferenceArray<>(SLOTS);

  /** A stateless function's encoding and its fingerprint. */
  record Encoding(byte[] bytes, long high, long low) {
  }

  /** A decoded function and the fingerprint of the encoding it came from. */
  private record Decoded(long high, long low, Object function) {
  }

  static boolean isStateless(Object function) {
    return function != null && STATELESS.get(function.getClass());
  }

  /** Returns the encoding of a stateless function, encoding it on first use of its class. */
  static Encoding encoding(Object function, Codec codec) {
    Encoding[] cached = ENCODED.get(function.getClass());
    Encoding encoding = cached[0];
    if (encoding == null) {
      byte[] bytes = codec.encodeToArray("function", function, (kryo, output) -> kryo.writeClassAndObject(output, function));
      encoding = new Encoding(bytes, hash(bytes, FNV_OFFSET), hash(bytes, ~FNV_OFFSET));
      // A race encodes it twice, into equal encodings: either may stay.
      cached[0] = encoding;
    }
    return encoding;
  }

  /** Writes a stateless function's fingerprint and encoding. */
  static void write(Output output, Encoding encoding) {
    output.writeLong(encoding.high());
    output.writeLong(encoding.low());
    output.writeInt(encoding.bytes().length);
    output.writeBytes(encoding.bytes());
  }

  /** Reads what {@link #write} wrote: the function decoded earlier from the same encoding, else decodes it. */
  Object read(Input input, Codec codec) {
    long high = input.readLong();
    long low = input.readLong();
    int length = input.readInt();
    int slot = (int) high & (SLOTS - 1);
    Decoded known = decoded.get(slot);
    if (known != null && known.high() == high && known.low() == low) {
      input.skip(length);
      return known.function();
    }
    Object function = codec.decodeObject("function", input.readBytes(length));
    decoded.set(slot, new Decoded(high, low, function));
    return function;
  }

  /** FNV-1a over the bytes from a starting value, then mixed: neighbouring inputs give unrelated hashes. */
  private static long hash(byte[] bytes, long start) {
    long hash = start;
    for (byte b : bytes) {
      hash = (hash ^ (b & 0xff)) * FNV_PRIME;
    }
    return TaskSeeds.mix(hash ^ bytes.length);
  }
}
