package org.jmpipool.internal.master;

import org.jmpipool.MpiPoolExecutor;
import org.jmpipool.internal.Pools;

/** The local pools the engine tests run on: the agents and codec of a real job, without MPI. */
final class InProcessPool {

  private InProcessPool() {
  }

  static MpiPoolExecutor start(int workers) {
    return Pools.local(workers, true, new PoolOptions(1, null, 0));
  }
}
