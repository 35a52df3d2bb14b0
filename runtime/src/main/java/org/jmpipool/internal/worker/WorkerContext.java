package org.jmpipool.internal.worker;

import org.jmpipool.internal.wire.Codec;
import org.jmpipool.internal.wire.PoolLayout;

/**
 * What one worker of one pool holds for its tasks: where it runs, the state its initializer
 * made, its stored objects, and its side of the groups of parallel tasks.
 *
 * <p>Threads: made by the worker's communication thread; read by its task threads ({@link #state}
 * is written by the initializer's task thread before any other task runs).
 */
final class WorkerContext {

  final int rank;
  final int workerIndex;
  final int workers;
  final int worldSize;
  final String host;
  final RemoteStore store;
  final WorkerGroup group;
  /** What the pool's initializer returned here; set before any other task runs. */
  volatile Object state;

  WorkerContext(int rank, int worldSize, String host, PoolLayout layout, Codec codec, WorkerGroup.PeerMail mail) {
    this.rank = rank;
    this.workerIndex = layout.indexOf(rank);
    this.workers = layout.workers();
    this.worldSize = worldSize;
    this.host = host;
    this.store = new RemoteStore(codec);
    this.group = new WorkerGroup(workerIndex, workers, rank, codec, mail);
  }
}
