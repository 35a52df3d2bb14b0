package org.jmpipool.internal.master;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.jmpipool.MapOptions;
import org.junit.jupiter.api.Test;

/** How big a map's chunks are, and how many items it lets be in flight. */
class ChunkSizerTest {

  private static final int UNKNOWN_SIZE = -1;

  @Test
  void aChosenChunkSizeIsKeptWhateverTheTimings() {
    ChunkSizer sizer = new ChunkSizer(MapOptions.defaults().chunkSize(256), UNKNOWN_SIZE, () -> 2);
    for (int i = 0; i < 10; i++) {
      assertEquals(256, sizer.nextChunkSize());
      sizer.observe(256, 10L * i);
    }
  }

  @Test
  void theAutomaticSizeStartsAtOneAndGrowsAtMostFourfoldPerChunkTowardsAMillisecondOfWork() {
    ChunkSizer sizer = new ChunkSizer(MapOptions.defaults(), UNKNOWN_SIZE, () -> 2);
    assertEquals(1, sizer.nextChunkSize(), "nothing timed yet");
    sizer.observe(1, 1_000);
    List<Integer> sizes = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      int chunk = sizer.nextChunkSize();
      sizes.add(chunk);
      sizer.observe(chunk, chunk * 1_000L);
    }
    assertEquals(List.of(4, 16, 64, 256, 1000, 1000, 1000, 1000), sizes, "1 us items: 1,000 make 1 ms");
  }

  @Test
  void theAutomaticSizeShrinksAtMostByHalfPerChunk() {
    ChunkSizer sizer = new ChunkSizer(MapOptions.defaults(), UNKNOWN_SIZE, () -> 2);
    int chunk = 1;
    for (int i = 0; i < 10; i++) {
      chunk = sizer.nextChunkSize();
      sizer.observe(chunk, chunk * 1_000L);
    }
    assertEquals(1000, chunk);
    for (int i = 0; i < 20; i++) {
      sizer.observe(1, 50_000_000);
    }
    assertEquals(500, sizer.nextChunkSize(), "items now take 50 ms, but one slow chunk does not collapse the size");
    assertEquals(250, sizer.nextChunkSize());
  }

  @Test
  void theAutomaticSizeHasACeiling() {
    ChunkSizer sizer = new ChunkSizer(MapOptions.defaults(), UNKNOWN_SIZE, () -> 2);
    sizer.observe(1_000_000, 1);
    int chunk = 0;
    for (int i = 0; i < 20; i++) {
      chunk = sizer.nextChunkSize();
    }
    assertEquals(ChunkSizer.MAX_AUTO_CHUNK, chunk);
  }

  @Test
  void knownSizesAndBoundsOnItemsInFlightCapTheAutomaticSize() {
    ChunkSizer sized = new ChunkSizer(MapOptions.defaults(), 1000, () -> 2);
    ChunkSizer bounded = new ChunkSizer(MapOptions.defaults().maxInFlight(50), UNKNOWN_SIZE, () -> 2);
    ChunkSizer brokenPool = new ChunkSizer(MapOptions.defaults(), 1000, () -> 0);
    for (ChunkSizer sizer : List.of(sized, bounded, brokenPool)) {
      sizer.observe(1_000_000, 1);
    }
    int sizedChunk = 0;
    int boundedChunk = 0;
    int brokenPoolChunk = 0;
    for (int i = 0; i < 20; i++) {
      sizedChunk = sized.nextChunkSize();
      boundedChunk = bounded.nextChunkSize();
      brokenPoolChunk = brokenPool.nextChunkSize();
    }
    assertEquals(125, sizedChunk, "a quarter of a fair share per worker: 1000 / (4 x 2)");
    assertEquals(50, boundedChunk);
    assertEquals(250, brokenPoolChunk, "a pool of no workers counts as one");
  }

  @Test
  void untimedAutomaticMapsProbeWithOneRunningAndOneWaitingPerWorker() {
    ChunkSizer sizer = new ChunkSizer(MapOptions.defaults(), UNKNOWN_SIZE, () -> 3);
    assertEquals(6, sizer.maxItemsInFlight(1));
  }

  @Test
  void itemsInFlightCoverSixteenChunksOrTwoMillisecondsOfWorkPerWorker() {
    ChunkSizer sizer = new ChunkSizer(MapOptions.defaults().chunkSize(10), UNKNOWN_SIZE, () -> 2);
    assertEquals(16 * 2 * 10, sizer.maxItemsInFlight(10), "untimed: by chunks");
    sizer.observe(10, 10 * 100L);
    assertEquals(2 * 2_000_000 / 100, sizer.maxItemsInFlight(10), "100 ns items: 2 ms of them per worker");
    sizer.observe(1, 0);
    sizer.observe(1_000_000_000, 1);
    assertEquals(ChunkSizer.MAX_AUTO_IN_FLIGHT, sizer.maxItemsInFlight(10), "with a ceiling");
  }

  @Test
  void aChosenBoundOnItemsInFlightIsKept() {
    ChunkSizer sizer = new ChunkSizer(MapOptions.defaults().maxInFlight(7), UNKNOWN_SIZE, () -> 4);
    assertEquals(7, sizer.maxItemsInFlight(1));
    sizer.observe(1, 1);
    assertEquals(7, sizer.maxItemsInFlight(1));
    assertTrue(sizer.nextChunkSize() <= 7);
  }
}
