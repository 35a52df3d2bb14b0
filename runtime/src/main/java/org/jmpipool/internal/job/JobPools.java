package org.jmpipool.internal.job;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jmpipool.MpiPoolExecutor;
import org.jmpipool.internal.loop.CommunicationThread;
import org.jmpipool.internal.master.DistributedExecutor;
import org.jmpipool.internal.master.PoolOptions;
import org.jmpipool.internal.transport.Transport;

/**
 * Further pools on the ranks of a launched job, besides the job's own executor: each gets its
 * own channel, its own master agent on the master's communication thread, and its own worker
 * agents (task threads, initializer, stored objects) on the worker ranks, opened by a frame on
 * the job's channel 0.
 *
 * <p>Threads: installed by the master's main thread; pools are opened and ended by any thread.
 */
public final class JobPools {

  private static volatile JobPools installed;

  private final CommunicationThread comm;
  private final Transport transport;
  /** The job's own pool, on channel 0, whose workers are asked to serve the further pools. */
  private final DistributedExecutor job;
  private final AtomicInteger channels = new AtomicInteger();
  private final Set<DistributedExecutor> open = ConcurrentHashMap.newKeySet();

  private JobPools(CommunicationThread comm, Transport transport, DistributedExecutor job) {
    this.comm = comm;
    this.transport = transport;
    this.job = job;
  }

  /** Makes the job's ranks available to further pools; the master, once. */
  public static void install(CommunicationThread comm, Transport transport, DistributedExecutor job) {
    installed = new JobPools(comm, transport, job);
  }

  /**
   * Opens a pool on the first {@code workers} worker ranks of the job, or on all of them when
   * {@code workers} is -1.
   *
   * @throws IllegalStateException outside a launched job's master
   * @throws IllegalArgumentException when the job has fewer worker ranks
   */
  public static DistributedExecutor open(int workers, PoolOptions options) {
    JobPools pools = installed;
    if (pools == null) {
      throw new IllegalStateException("the mpi backend's pools use the ranks of a job started by the jmpipool launcher"
          + " (bin/jmpipool -n N MAIN_CLASS ...), and this JVM was not started that way; use the spawn or local backend");
    }
    return pools.openPool(workers, options);
  }

  private DistributedExecutor openPool(int workers, PoolOptions options) {
    int available = transport.size() - 1;
    if (workers == -1) {
      workers = available;
    }
    if (workers < 1) {
      throw new IllegalArgumentException("the job has no worker ranks (a single rank): a pool on the mpi backend needs"
          + " at least 2 ranks");
    }
    if (workers > available) {
      throw new IllegalArgumentException("the job has " + available + " worker ranks; a pool of " + workers
          + " workers needs more (start the job with -n " + (workers + 1) + " or more)");
    }
    int channel = channels.incrementAndGet();
    if (channel > Transport.MAX_CHANNEL) {
      throw new IllegalStateException("this job has opened " + Transport.MAX_CHANNEL + " pools, the most it can");
    }
    DistributedExecutor executor = DistributedExecutor.start(comm, transport, channel, workers, job.codec(), options,
        false);
    // Tasks on the new channel wait on the workers until this frame has opened it there.
    job.front().openPool(channel, executor.front().layout());
    open.add(executor);
    executor.ended().whenComplete((ignored, failure) -> open.remove(executor));
    return executor;
  }

  /** Returns the pools on the job's ranks that have not ended. */
  public static List<DistributedExecutor> openPools() {
    JobPools pools = installed;
    return pools == null ? List.of() : List.copyOf(pools.open);
  }

  /**
   * Ends the pools the program left open, before the job's own executor stops its workers:
   * tasks still queued are cancelled, running ones interrupted.
   */
  public static void endOpenPools(long graceSeconds) {
    JobPools pools = installed;
    if (pools == null) {
      return;
    }
    for (MpiPoolExecutor pool : pools.open) {
      pool.shutdownNow();
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(graceSeconds);
    for (MpiPoolExecutor pool : pools.open) {
      try {
        pool.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
