package org.jmpipool.internal.master;

import java.util.function.IntSupplier;
import org.jmpipool.Jmpipool;
import org.jmpipool.MapOptions;

/**
 * How many items a map puts in its next chunk, and how many it lets be in flight.
 *
 * <p>A chunk size the caller chose is kept. The automatic one aims at chunks of about
 * {@link #TARGET_CHUNK_NANOS} of work, from the time per item the workers report: it starts at
 * one item and moves at most fourfold up or halfway down per chunk, so that a chunk slowed by the
 * scheduler does not collapse the size; for inputs of known size it is capped at a quarter of a
 * fair share per worker, so that the end of the map stays balanced.
 *
 * <p>Items in flight are bounded by the caller's {@code maxInFlight}, else by enough chunks and
 * enough work per worker to hide the round trips; until a chunk has been timed, one running and
 * one waiting per worker probe the time per item.
 *
 * <p>Threads: the map's reading thread sizes chunks; whichever thread hears of a chunk's result
 * reports its time ({@link #observe}).
 */
final class ChunkSizer {

  /** The work an automatic chunk aims at. */
  static final long TARGET_CHUNK_NANOS = 1_000_000;
  static final int MAX_AUTO_CHUNK = 1 << 16;
  static final int CHUNKS_IN_FLIGHT_PER_WORKER = 16;
  /** In flight per worker, at least this much work: enough to hide the round trips of a busy machine. */
  static final long WORK_IN_FLIGHT_PER_WORKER_NANOS = 2_000_000;
  static final int MAX_AUTO_IN_FLIGHT = 1 << 20;

  private final int chosenChunk;
  private final int maxInFlight;
  /** The number of inputs, or -1 when unknown. */
  private final int size;
  private final IntSupplier workers;
  /** The automatic chunk size last used; it moves gradually towards the target. */
  private int automaticChunk = 1;
  /** Decaying sums of the work time and items of timed chunks: big chunks weigh the most. Guarded by this. */
  private double observedNanos;
  private double observedItems;

  /**
   * Creates the sizer of one map.
   *
   * @param options the map's chunk size and bound on items in flight (0: automatic)
   * @param size the number of inputs, or -1 when unknown
   * @param workers the pool's workers now (0 once it broke)
   */
  ChunkSizer(MapOptions options, int size, IntSupplier workers) {
    this.chosenChunk = options.chunkSize();
    this.maxInFlight = options.maxInFlight();
    this.size = size;
    this.workers = workers;
  }

  /** Decides the size of the next chunk; the automatic size moves one step per call. */
  int nextChunkSize() {
    if (chosenChunk > 0) {
      return chosenChunk;
    }
    double perItem = nanosPerItem();
    if (perItem >= 0) {
      long target = (long) Math.min(MAX_AUTO_CHUNK, TARGET_CHUNK_NANOS / Math.max(perItem, 1));
      automaticChunk = (int) Math.max(1, Math.max(automaticChunk / 2, Math.min(target, automaticChunk * 4L)));
    }
    int chunk = automaticChunk;
    if (maxInFlight > 0) {
      chunk = Math.min(chunk, maxInFlight);
    }
    if (size > 0) {
      chunk = Math.min(chunk, Jmpipool.defaultChunkSize(size, workerCount()));
    }
    return chunk;
  }

  /** The bound on items in flight, given the size of the chunk about to be sent. */
  int maxItemsInFlight(int chunkSize) {
    if (maxInFlight > 0) {
      return maxInFlight;
    }
    int workerCount = workerCount();
    double perItem = nanosPerItem();
    if (chosenChunk == 0 && perItem < 0) {
      return 2 * workerCount;
    }
    long byChunks = (long) CHUNKS_IN_FLIGHT_PER_WORKER * workerCount * chunkSize;
    long byTime = perItem > 0 ? (long) (workerCount * WORK_IN_FLIGHT_PER_WORKER_NANOS / perItem) : 0;
    return (int) Math.min(MAX_AUTO_IN_FLIGHT, Math.max(byChunks, byTime));
  }

  /** A chunk of {@code items} items took {@code executionNanos} on its worker. */
  synchronized void observe(int items, long executionNanos) {
    observedNanos = observedNanos / 2 + executionNanos;
    observedItems = observedItems / 2 + items;
  }

  private synchronized double nanosPerItem() {
    return observedItems == 0 ? -1 : observedNanos / observedItems;
  }

  private int workerCount() {
    return Math.max(1, workers.getAsInt());
  }
}
