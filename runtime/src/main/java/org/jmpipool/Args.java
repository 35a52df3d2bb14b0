package org.jmpipool;

/**
 * Argument tuples for the multi-argument maps of {@link MpiPool} ({@code starmap} and its
 * variants), Java's form of Python's argument tuples:
 *
 * <pre>{@code
 * List<Double> areas = pool.starmap(Shapes::area, List.of(Args.of(2.0, 3.0), Args.of(4.0, 5.0)));
 * }</pre>
 *
 * <p>{@link #spread(SerializableBiFunction)} turns a function of several arguments into a
 * function of a tuple, for the {@code map} variants that take more options.
 */
public final class Args {

  private Args() {
  }

  /**
   * Two arguments.
   *
   * @param first the first argument
   * @param second the second argument
   * @param <A> the first argument's type
   * @param <B> the second argument's type
   */
  public record Two<A, B>(A first, B second) {
  }

  /**
   * Three arguments.
   *
   * @param first the first argument
   * @param second the second argument
   * @param third the third argument
   * @param <A> the first argument's type
   * @param <B> the second argument's type
   * @param <C> the third argument's type
   */
  public record Three<A, B, C>(A first, B second, C third) {
  }

  /**
   * Makes a pair of arguments.
   *
   * @param first the first argument
   * @param second the second argument
   * @param <A> the first argument's type
   * @param <B> the second argument's type
   * @return the pair
   */
  public static <A, B> Two<A, B> of(A first, B second) {
    return new Two<>(first, second);
  }

  /**
   * Makes a triple of arguments.
   *
   * @param first the first argument
   * @param second the second argument
   * @param third the third argument
   * @param <A> the first argument's type
   * @param <B> the second argument's type
   * @param <C> the third argument's type
   * @return the triple
   */
  public static <A, B, C> Three<A, B, C> of(A first, B second, C third) {
    return new Three<>(first, second, third);
  }

  /**
   * Turns a function of two arguments into a serializable function of a pair.
   *
   * @param function the function
   * @param <A> the first argument's type
   * @param <B> the second argument's type
   * @param <R> the result type
   * @return the function of a pair
   */
  public static <A, B, R> SerializableFunction<Two<? extends A, ? extends B>, R> spread(
      SerializableBiFunction<? super A, ? super B, ? extends R> function) {
    java.util.Objects.requireNonNull(function, "function");
    return args -> function.apply(args.first(), args.second());
  }

  /**
   * Turns a function of three arguments into a serializable function of a triple.
   *
   * @param function the function
   * @param <A> the first argument's type
   * @param <B> the second argument's type
   * @param <C> the third argument's type
   * @param <R> the result type
   * @return the function of a triple
   */
  public static <A, B, C, R> SerializableFunction<Three<? extends A, ? extends B, ? extends C>, R> spread(
      SerializableTriFunction<? super A, ? super B, ? super C, ? extends R> function) {
    java.util.Objects.requireNonNull(function, "function");
    return args -> function.apply(args.first(), args.second(), args.third());
  }
}
