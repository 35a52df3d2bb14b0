package org.jmpipool.internal.master;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.jmpipool.MapOptions;
import org.jmpipool.MapResults;
import org.jmpipool.MpiPoolExecutor;
import org.jmpipool.TaskContext;
import org.jmpipool.SerializableFunction;
import org.jmpipool.TaskSerializationException;
import org.jmpipool.internal.Pools;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** map(): chunking, order, failures, deadlines and laziness, on in-process workers. */
@Timeout(30)
class MapSemanticsTest {

  private final MpiPoolExecutor pool = InProcessPool.start(2);

  @AfterEach
  void closePool() throws InterruptedException {
    pool.shutdownNow();
    assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
  }

  private static List<Integer> range(int n) {
    return IntStream.range(0, n).boxed().toList();
  }

  static int failOn13(int x) {
    if (x == 13) {
      throw new IllegalStateException("item 13 is unlucky");
    }
    return x;
  }

  static int sleepyIdentity(int x) {
    pause(x % 7 == 0 ? 30 : 1);
    return x;
  }

  static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      throw new IllegalStateException("interrupted", e);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 7, 100, 1000})
  void resultsComeInInputOrderForChunkSizesBelowAtAndAboveTheInputLength(int chunkSize) {
    List<Integer> results = pool.map((Integer x) -> x * 2, range(100), MapOptions.defaults().chunkSize(chunkSize)).toList();
    assertEquals(range(100).stream().map(x -> x * 2).toList(), results);
  }

  @Test
  void theDefaultOptionsMapALargeInputCorrectly() {
    assertEquals(range(200_000), pool.map((Integer x) -> x, range(200_000)).toList());
  }

  @Test
  void emptyInputsGiveEmptyResults() {
    assertEquals(List.of(), pool.map((Integer x) -> x, List.<Integer>of()).toList());
    assertEquals(List.of(), pool.map((Integer x) -> x, Stream.<Integer>empty(), MapOptions.defaults()).toList());
  }

  @Test
  void aFailingItemDeliversEarlierResultsThenItsException() {
    for (int chunkSize : new int[] {1, 5, 64}) {
      List<Integer> delivered = new ArrayList<>();
      try (MapResults<Integer> results = pool.map(MapSemanticsTest::failOn13, range(100), MapOptions.defaults().chunkSize(chunkSize))) {
        Iterator<Integer> iterator = results.iterator();
        CompletionException e = assertThrows(CompletionException.class, () -> {
          while (iterator.hasNext()) {
            delivered.add(iterator.next());
          }
        });
        assertInstanceOf(IllegalStateException.class, e.getCause());
        assertEquals("item 13 is unlucky", e.getCause().getMessage());
        assertFalse(iterator.hasNext(), "iteration ends after the failure");
      }
      assertEquals(range(13), delivered, "chunk size " + chunkSize);
    }
    assertEquals(range(10), pool.map((Integer x) -> x, range(10)).toList(), "the pool keeps working");
  }

  @Test
  void anItemThatCannotBeSerializedFailsAtItsPlace() {
    List<Object> inputs = new ArrayList<>(List.of("a", "b"));
    inputs.add((Function<String, String>) s -> s);
    inputs.add("d");
    List<Object> delivered = new ArrayList<>();
    MapResults<Object> results = pool.map((Object x) -> x, inputs, MapOptions.defaults().chunkSize(10));
    CompletionException e = assertThrows(CompletionException.class, () -> results.forEach(delivered::add));
    assertInstanceOf(TaskSerializationException.class, e.getCause());
    assertEquals(List.of("a", "b"), delivered);
  }

  @Test
  void aFunctionThatCannotBeSerializedFailsTheFirstItem() {
    Function<Integer, Integer> plain = x -> x;
    SerializableFunction<Integer, Integer> wrapped = plain::apply;
    CompletionException e = assertThrows(CompletionException.class, () -> pool.map(wrapped, range(5)).toList());
    assertInstanceOf(TaskSerializationException.class, e.getCause());
  }

  @Test
  void unorderedResultsAreTheSameMultiset() {
    List<Integer> results = pool.map(MapSemanticsTest::sleepyIdentity, range(60), MapOptions.defaults().unordered()).toList();
    assertEquals(range(60), results.stream().sorted().toList());
  }

  @Test
  void theTimeoutIsADeadlineForTheWholeMap() {
    long start = System.nanoTime();
    MapResults<Integer> results = pool.map((Integer x) -> {
      pause(100);
      return x;
    }, range(50), MapOptions.defaults().chunkSize(1).timeout(Duration.ofMillis(500)));
    List<Integer> delivered = new ArrayList<>();
    CompletionException e = assertThrows(CompletionException.class, () -> results.forEach(delivered::add));
    assertInstanceOf(TimeoutException.class, e.getCause());
    long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
    assertTrue(elapsedMillis < 2_000, "the deadline counts from the call, not per item: " + elapsedMillis + " ms");
    assertTrue(delivered.size() < 50);
  }

  @Test
  void anInfiniteStreamIsConsumedLazilyWithinTheBound() {
    AtomicInteger produced = new AtomicInteger();
    Stream<Integer> naturals = Stream.iterate(0, x -> x + 1).peek(x -> produced.incrementAndGet());
    try (MapResults<Integer> results = pool.map((Integer x) -> x * x, naturals, MapOptions.defaults().maxInFlight(50))) {
      List<Integer> first = results.stream().limit(200).collect(Collectors.toList());
      assertEquals(IntStream.range(0, 200).map(x -> x * x).boxed().toList(), first);
    }
    assertTrue(produced.get() <= 200 + 50, "read " + produced.get() + " inputs for 200 results with a bound of 50");
  }

  @Test
  void closingEarlyCancelsTheRest() throws Exception {
    AtomicInteger produced = new AtomicInteger();
    MapResults<Integer> results = pool.map(MapSemanticsTest::sleepyIdentity,
        Stream.iterate(0, x -> x + 1).peek(x -> produced.incrementAndGet()).limit(10_000), MapOptions.defaults());
    Iterator<Integer> iterator = results.iterator();
    assertEquals(0, iterator.next());
    results.close();
    assertFalse(iterator.hasNext());
    int afterClose = produced.get();
    Thread.sleep(100);
    assertEquals(afterClose, produced.get(), "no input is read after close");
    assertEquals(List.of(1), pool.map((Integer x) -> x, List.of(1)).toList());
  }

  @Test
  void resultsCanBeIteratedOnlyOnce() {
    MapResults<Integer> results = pool.map((Integer x) -> x, range(3));
    results.iterator();
    assertThrows(IllegalStateException.class, results::iterator);
    results.close();
  }

  @Test
  void aMapAfterShutdownIsRejected() {
    pool.shutdown();
    assertThrows(java.util.concurrent.RejectedExecutionException.class, () -> pool.map((Integer x) -> x, range(3)));
  }


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
