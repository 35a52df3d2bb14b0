package org.jmpipool.internal.master;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.List;
import java.util.stream.IntStream;
import org.jmpipool.MapOptions;
import org.jmpipool.MapResults;
import org.jmpipool.MpiPoolExecutor;
import org.jmpipool.TaskContext;
import org.jmpipool.internal.Pools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What maps choose for themselves: the chunk sizes of maps that read their inputs at once, and
 * each item's random numbers. The executor contract's checks of maps run on every backend
 * (packaging's Contract).
 */
@Timeout(30)
class MapSemanticsTest {

  @Test
  void mapsThatReadTheirInputsAtOnceUsePythonsChunkSizeUnlessOneIsGiven() {
    assertEquals(13, ProcessPool.chunkSize(100, 2, 0));
    assertEquals(1, ProcessPool.chunkSize(3, 4, 0));
    assertEquals(250, ProcessPool.chunkSize(1000, 1, 0));
    assertEquals(7, ProcessPool.chunkSize(1000, 1, 7));
    assertEquals(2, ProcessPool.chunkSize(5, 0, 0), "a broken pool (0 workers) still gets a valid size");
  }

  @Test
  void aMapDrawsTheSameNumbersWhateverTheThreadsAndChunks() {
    List<Integer> inputs = IntStream.range(0, 200).boxed().toList();
    List<Long> reference = draws(Pools.local(1, true, new PoolOptions(1, null, 5)), inputs, 1);
    assertEquals(reference, draws(Pools.local(3, true, new PoolOptions(2, null, 5)), inputs, 17));
    assertEquals(reference, draws(Pools.local(2, false, new PoolOptions(3, null, 5)), inputs, 64));
    assertNotEquals(reference, draws(Pools.local(1, true, new PoolOptions(1, null, 6)), inputs, 1));
    assertEquals(inputs.size(), reference.stream().distinct().count());
  }

  private static List<Long> draws(MpiPoolExecutor pool, List<Integer> inputs, int chunk) {
    try (pool; MapResults<Long> results = pool.map(i -> TaskContext.current().random().nextLong(), inputs,
        MapOptions.defaults().chunkSize(chunk))) {
      return results.toList();
    }
  }
}
