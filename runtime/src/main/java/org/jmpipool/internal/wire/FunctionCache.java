package org.jmpipool.internal.wire;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Functions that hold no state (non-capturing lambdas, static method references, classes without
 * instance fields) are encoded once per class on the master and decoded once per worker, instead
 * of once per task: a map sends its function with every chunk, and {@code submit(fn, arg)} with
 * every call. Every instance of such a class is equivalent, so sharing one decoded instance
 * between tasks changes nothing but the cost.
 *
 * <p>Threads: any: encodings are cached per class, decoded functions in a concurrent map.
 */
final class FunctionCache {

  private static final int MAX_DECODED = 256;

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

  private static final ClassValue<AtomicReference<byte[]>> ENCODED = new ClassValue<>() {
    @Override
    protected AtomicReference<byte[]> computeValue(Class<?> type) {
      return new AtomicReference<>();
    }
  };

  private final Map<Key, Object> decoded = new LinkedHashMap<>(64, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Key, Object> eldest) {
      return size() > MAX_DECODED;
    }
  };

  /** The bytes of an encoded function, compared by content. */
  private record Key(byte[] bytes, int hash) {
    Key(byte[] bytes) {
      this(bytes, Arrays.hashCode(bytes));
    }

    @Override
    public boolean equals(Object other) {
      return other instanceof Key key && hash == key.hash && Arrays.equals(bytes, key.bytes);
    }

    @Override
    public int hashCode() {
      return hash;
    }
  }

  static boolean isStateless(Object function) {
    return function != null && STATELESS.get(function.getClass());
  }

  /** Returns the encoding of a stateless function, encoding it on first use of its class. */
  static byte[] encoding(Object function, Codec codec) {
    AtomicReference<byte[]> cached = ENCODED.get(function.getClass());
    byte[] bytes = cached.get();
    if (bytes == null) {
      bytes = codec.encodeToArray("function", function, (kryo, output) -> kryo.writeClassAndObject(output, function));
      cached.set(bytes);
    }
    return bytes;
  }

  /** Returns the function of an encoding, decoding it on first sight. */
  synchronized Object decode(byte[] bytes, Codec codec) {
    Key key = new Key(bytes);
    Object function = decoded.get(key);
    if (function == null) {
      function = codec.decodeObject("function", bytes);
      decoded.put(key, function);
    }
    return function;
  }
}
