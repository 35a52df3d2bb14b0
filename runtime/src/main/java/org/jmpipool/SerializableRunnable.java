package org.jmpipool;

import java.io.Serializable;

/**
 * A {@link Runnable} that is also {@link Serializable}, so that a lambda or method reference
 * passed where this type is expected can be shipped to another process without a cast.
 */
@FunctionalInterface
public interface SerializableRunnable extends Runnable, Serializable {
}
