package org.jmpipool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class AsCompletedTest {

  @Test
  void futuresComeInTheOrderTheyCompleteAndAFutureListedTwiceComesOnce() {
    CompletableFuture<String> first = new CompletableFuture<>();
    CompletableFuture<String> second = new CompletableFuture<>();
    Iterator<CompletableFuture<String>> completed = Jmpipool.asCompleted(List.of(first, second, first)).iterator();
    second.complete("b");
    first.complete("a");
    List<CompletableFuture<String>> order = new ArrayList<>();
    completed.forEachRemaining(order::add);
    assertEquals(List.of(second, first), order);
    assertFalse(completed.hasNext());
  }
}
