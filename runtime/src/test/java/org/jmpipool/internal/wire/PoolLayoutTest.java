package org.jmpipool.internal.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Pool layouts: the broadcast tree over a pool's workers, and a layout's encoding. */
class PoolLayoutTest {

  @Test
  void theBroadcastTreeReachesEveryWorkerOnceWithFewCopiesPerSender() {
    for (int workers = 1; workers <= 40; workers++) {
      PoolLayout layout = PoolLayout.allRanks(workers + 1, 1);
      int[] received = new int[workers];
      List<Integer> senders = new ArrayList<>(List.of(0));
      int maxCopies = 0;
      while (!senders.isEmpty()) {
        int position = senders.remove(0);
        int[] targets = layout.broadcastTargets(position);
        maxCopies = Math.max(maxCopies, targets.length);
        for (int target : targets) {
          received[target]++;
          senders.add(target + 1);
        }
      }
      for (int worker = 0; worker < workers; worker++) {
        assertEquals(1, received[worker], "worker " + worker + " of " + workers);
      }
      assertTrue(maxCopies <= 32 - Integer.numberOfLeadingZeros(workers), workers + " workers: " + maxCopies);
    }
  }

  @Test
  void layoutsTravelIntact() {
    PoolLayout layout = new PoolLayout(new int[] {3, 1, 7}, 4);
    assertEquals(layout, PoolLayout.decode(layout.encode()));
    assertEquals(2, layout.indexOf(7));
    assertEquals(-1, layout.indexOf(2));
    assertThrows(IllegalArgumentException.class, () -> new PoolLayout(new int[] {1}, 0));
  }
}
