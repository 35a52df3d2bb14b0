package org.jmpipool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class MapOptionsTest {

  @Test
  void defaultsAreAutomaticUnboundedInOrder() {
    MapOptions defaults = MapOptions.defaults();
    assertEquals(0, defaults.chunkSize());
    assertEquals(0, defaults.maxInFlight());
    assertEquals(null, defaults.timeout());
    assertTrue(defaults.ordered());
  }

  @Test
  void eachSetterReturnsAChangedCopy() {
    MapOptions options = MapOptions.defaults().chunkSize(8).maxInFlight(100).timeout(Duration.ofSeconds(3)).unordered();
    assertEquals(8, options.chunkSize());
    assertEquals(100, options.maxInFlight());
    assertEquals(Duration.ofSeconds(3), options.timeout());
    assertFalse(options.ordered());
    assertTrue(MapOptions.defaults().ordered());
    assertEquals("MapOptions[chunkSize=8, maxInFlight=100, timeout=PT3S, ordered=false]", options.toString());
  }

  @Test
  void invalidValuesAreRejectedAtOnce() {
    assertThrows(IllegalArgumentException.class, () -> MapOptions.defaults().chunkSize(0));
    assertThrows(IllegalArgumentException.class, () -> MapOptions.defaults().chunkSize(-3));
    assertThrows(IllegalArgumentException.class, () -> MapOptions.defaults().maxInFlight(0));
    assertThrows(IllegalArgumentException.class, () -> MapOptions.defaults().timeout(Duration.ZERO));
    assertThrows(IllegalArgumentException.class, () -> MapOptions.defaults().timeout(Duration.ofMillis(-1)));
    assertThrows(NullPointerException.class, () -> MapOptions.defaults().timeout(null));
  }
}
