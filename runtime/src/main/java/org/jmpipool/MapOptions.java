package org.jmpipool;

import java.time.Duration;
import java.util.Objects;

/**
 * How {@link MpiPoolExecutor#map(SerializableFunction, Iterable, MapOptions) map} cuts its input
 * into tasks and hands out the results. Immutable; each method returns a changed copy and rejects
 * an invalid value at once with an {@link IllegalArgumentException}.
 *
 * <pre>{@code
 * MapOptions.defaults().chunkSize(256).maxInFlight(100_000).timeout(Duration.ofMinutes(5)).unordered()
 * }</pre>
 */
public final class MapOptions {

  private static final MapOptions DEFAULTS = new MapOptions(0, 0, null, true, null);

  private final int chunkSize;
  private final int maxInFlight;
  private final Duration timeout;
  private final boolean ordered;
  private final Long seed;

  private MapOptions(int chunkSize, int maxInFlight, Duration timeout, boolean ordered, Long seed) {
    this.chunkSize = chunkSize;
    this.maxInFlight = maxInFlight;
    this.timeout = timeout;
    this.ordered = ordered;
    this.seed = seed;
  }

  /**
   * Returns the defaults: automatic chunk size, automatic bound on items in flight, no timeout,
   * results in input order.
   *
   * <p>The automatic chunk size starts at one item per task and grows while tasks finish in well
   * under a millisecond, so a map of tiny functions is sent in large chunks and a map of long
   * tasks is balanced item by item. The automatic bound keeps at least 16 chunks and about 2 ms of
   * work per worker in flight, so that workers do not wait for the next chunk.
   *
   * @return the default options
   */
  public static MapOptions defaults() {
    return DEFAULTS;
  }

  /**
   * Sends {@code items} inputs per task.
   *
   * @param items the number of inputs per task, at least 1
   * @return the changed options
   * @throws IllegalArgumentException when {@code items} is below 1
   */
  public MapOptions chunkSize(int items) {
    if (items < 1) {
      throw new IllegalArgumentException("chunk size must be at least 1, got " + items);
    }
    return new MapOptions(items, maxInFlight, timeout, ordered, seed);
  }

  /**
   * Bounds how many inputs are taken from the source and not yet handed to the caller. The
   * source is consumed lazily: an infinite stream works, and at most this many inputs and their
   * results are held in memory at once.
   *
   * @param items the bound, at least 1 (raised to the chunk size when smaller)
   * @return the changed options
   * @throws IllegalArgumentException when {@code items} is below 1
   */
  public MapOptions maxInFlight(int items) {
    if (items < 1) {
      throw new IllegalArgumentException("maxInFlight must be at least 1, got " + items);
    }
    return new MapOptions(chunkSize, items, timeout, ordered, seed);
  }

  /**
   * Sets a deadline for the whole map, counted from the call to {@code map}. A result not
   * available by then ends the iteration with a {@link java.util.concurrent.CompletionException}
   * caused by a {@link java.util.concurrent.TimeoutException}, and the unfinished work is
   * cancelled.
   *
   * @param deadline the time allowed, positive
   * @return the changed options
   * @throws IllegalArgumentException when {@code deadline} is zero or negative
   */
  public MapOptions timeout(Duration deadline) {
    Objects.requireNonNull(deadline, "deadline");
    if (deadline.isNegative() || deadline.isZero()) {
      throw new IllegalArgumentException("timeout must be positive, got " + deadline);
    }
    return new MapOptions(chunkSize, maxInFlight, deadline, ordered, seed);
  }

  /**
   * Hands out results in the order tasks complete instead of input order. The results are the
   * same multiset; a slow item no longer holds back the ones after it.
   *
   * @return the changed options
   */
  public MapOptions unordered() {
    return new MapOptions(chunkSize, maxInFlight, timeout, false, seed);
  }

  /**
   * Seeds the random generators of the map's items ({@link TaskContext#random()}): item {@code i}
   * draws the same numbers in every run with this seed, however the map is chunked and
   * scheduled. Without it, the pool's seed is used.
   *
   * @param value the seed
   * @return the changed options
   */
  public MapOptions seed(long value) {
    return new MapOptions(chunkSize, maxInFlight, timeout, ordered, value);
  }

  /**
   * Returns the seed of the items' random generators, or {@code null} for the pool's.
   *
   * @return the seed, or {@code null}
   */
  public Long seed() {
    return seed;
  }

  /**
   * Returns the chunk size, or 0 when it is chosen automatically.
   *
   * @return the chunk size, or 0 when it is chosen automatically
   */
  public int chunkSize() {
    return chunkSize;
  }

  /**
   * Returns the bound on inputs in flight, or 0 when it is chosen automatically.
   *
   * @return the bound on inputs in flight, or 0 when it is chosen automatically
   */
  public int maxInFlight() {
    return maxInFlight;
  }

  /**
   * Returns the deadline of the whole map, or {@code null} for none.
   *
   * @return the deadline of the whole map, or {@code null} for none
   */
  public Duration timeout() {
    return timeout;
  }

  /**
   * Returns whether results come in input order.
   *
   * @return whether results come in input order
   */
  public boolean ordered() {
    return ordered;
  }

  @Override
  public String toString() {
    return "MapOptions[chunkSize=" + (chunkSize == 0 ? "auto" : chunkSize)
        + ", maxInFlight=" + (maxInFlight == 0 ? "auto" : maxInFlight)
        + ", timeout=" + (timeout == null ? "none" : timeout)
        + ", ordered=" + ordered + (seed == null ? "" : ", seed=" + seed) + "]";
  }
}
