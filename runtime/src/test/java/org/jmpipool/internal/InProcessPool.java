package org.jmpipool.internal;

import org.jmpipool.MpiPoolExecutor;

/** The local pools the engine tests run on: the agents and codec of a real job, without MPI. */
final class InProcessPool {

  private InProcessPool() {
  }

  static MpiPoolExecutor start(int workers) {
    return Pools.local(workers, true, new PoolOptions(1, null, 0));
  }
}
