package org.jmpipool;

import java.io.Serializable;

/**
 * A serializable function of three arguments, for {@link MpiPool#starmap3}.
 *
 * @param <A> the first argument's type
 * @param <B> the second argument's type
 * @param <C> the third argument's type
 * @param <R> the result type
 */
@FunctionalInterface
public interface SerializableTriFunction<A, B, C, R> extends Serializable {

  /**
   * Applies the function.
   *
   * @param first the first argument
   * @param second the second argument
   * @param third the third argument
   * @return the result
   */
  R apply(A first, B second, C third);
}
