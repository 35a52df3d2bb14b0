package org.jmpipool.internal.wire;

import com.esotericsoftware.kryo.kryo5.Kryo;
import com.esotericsoftware.kryo.kryo5.minlog.Log;
import com.esotericsoftware.kryo.kryo5.Serializer;
import com.esotericsoftware.kryo.kryo5.serializers.ClosureSerializer;
import com.esotericsoftware.kryo.kryo5.serializers.CollectionSerializer;
import com.esotericsoftware.kryo.kryo5.serializers.FieldSerializer;
import com.esotericsoftware.kryo.kryo5.serializers.JavaSerializer;
import com.esotericsoftware.kryo.kryo5.serializers.MapSerializer;
import com.esotericsoftware.kryo.kryo5.objenesis.strategy.StdInstantiatorStrategy;
import com.esotericsoftware.kryo.kryo5.util.DefaultInstantiatorStrategy;
import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;
import java.io.Serializable;
import java.nio.file.Path;

/**
 * Kryo set up for arbitrary user objects: no registration (class names are written), references
 * on (shared objects stay shared, cycles work), serializable lambdas, classes without a no-argument
 * constructor, and Java serialization for the serializable JDK classes that Kryo's generic
 * serializers cannot rebuild (unmodifiable and synchronized collections, UUID, exceptions...).
 *
 * <p>Threads: one at a time: the thread that borrowed the instance from the {@link Codec}'s pool.
 */
public final class JdkAwareKryo extends Kryo {

  static {
    // Without --add-opens java.base/java.lang.invoke (an embedding JVM may lack it), Kryo's lambda
    // serializer warns with stack traces on every instance, then works through its fallback.
    Log.set(Log.LEVEL_ERROR);
  }

  /**
   * One lambda serializer for every instance. Its constructor sets up static reflection state
   * without synchronization (and, without the --add-opens above, sets it and clears it again):
   * constructed alongside another instance decoding a lambda, it made that decoding fail. It
   * keeps no state of its own, so one constructed once, here, serves all.
   */
  private static final ClosureSerializer CLOSURES = new ClosureSerializer();

  private final JavaSerializer javaSerializer = new JavaSerializer();
  private boolean damaged;

  JdkAwareKryo() {
    setRegistrationRequired(false);
    setReferences(true);
    setInstantiatorStrategy(new DefaultInstantiatorStrategy(new StdInstantiatorStrategy()));
    register(Object[].class);
    register(Class.class);
    register(ClosureSerializer.Closure.class, CLOSURES);
    addDefaultSerializer(Path.class, new PathSerializer());
  }

  /**
   * Paths are common task arguments (input files, model directories), but not serializable, and
   * their fields are closed to reflection: a path travels as its string, on the default file system.
   */
  private static final class PathSerializer extends Serializer<Path> {
    @Override
    public void write(Kryo kryo, Output output, Path path) {
      output.writeString(path.toString());
    }

    @Override
    public Path read(Kryo kryo, Input input, Class<? extends Path> type) {
      return Path.of(input.readString());
    }
  }

  /** Records that an exception interrupted this instance mid-way, so it must not be reused. */
  void markDamaged() {
    damaged = true;
  }

  boolean damaged() {
    return damaged;
  }

  @Override
  @SuppressWarnings("rawtypes")
  public Serializer getDefaultSerializer(Class type) {
    if (Throwable.class.isAssignableFrom(type)) {
      // Decided before Kryo looks at the fields, which it cannot open on JDK 17 without --add-opens.
      return javaSerializer;
    }
    Serializer serializer;
    try {
      serializer = super.getDefaultSerializer(type);
    } catch (RuntimeException closedToReflection) {
      // A JDK class whose fields Kryo may not open in this JVM: Java serialization can still
      // write it, when it is serializable.
      if (Serializable.class.isAssignableFrom(type)) {
        return javaSerializer;
      }
      throw closedToReflection;
    }
    boolean generic = serializer instanceof FieldSerializer
        || serializer instanceof CollectionSerializer
        || serializer instanceof MapSerializer;
    return generic && needsJavaSerialization(type) ? javaSerializer : serializer;
  }

  private static boolean needsJavaSerialization(Class<?> type) {
    if (!Serializable.class.isAssignableFrom(type) || type.isEnum() || type.isArray()) {
      return false;
    }
    String name = type.getName();
    boolean jdk = name.startsWith("java.") || name.startsWith("javax.") || name.startsWith("jdk.")
        || name.startsWith("sun.");
    return jdk && !hasNoArgConstructor(type);
  }

  private static boolean hasNoArgConstructor(Class<?> type) {
    try {
      type.getDeclaredConstructor();
      return true;
    } catch (NoSuchMethodException e) {
      return false;
    }
  }
}
