package org.jmpipool.internal;

import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongFunction;
import java.util.function.Supplier;
import org.jmpipool.MpiPool;
import org.jmpipool.MpiPoolExecutor;
import org.jmpipool.PoolStartException;
import org.jmpipool.WorkerPool;
import org.jmpipool.internal.job.JobPools;
import org.jmpipool.internal.loop.CommunicationThread;
import org.jmpipool.internal.master.DistributedExecutor;
import org.jmpipool.internal.master.MasterProxy;
import org.jmpipool.internal.master.PoolOptions;
import org.jmpipool.internal.master.ProcessPool;
import org.jmpipool.internal.master.StoredObjects;
import org.jmpipool.internal.master.StoringWorkerPool;
import org.jmpipool.internal.transport.InProcessNetwork;
import org.jmpipool.internal.transport.MpiTransport;
import org.jmpipool.internal.transport.RelayedTransport;
import org.jmpipool.internal.transport.Transport;
import org.jmpipool.internal.transport.TransportException;
import org.jmpipool.internal.wire.Codec;
import org.jmpipool.internal.wire.HandedOver;
import org.jmpipool.internal.worker.WorkerAgent;

/**
 * Builds the pools an embedding program asks for: local (threads) and spawned (MPI processes,
 * on this host by MPI's dynamic processes, or on other hosts as an MPI job of their own).
 *
 * <p>Threads: any (the caller's); starting a pool starts its threads.
 */
public final class Pools {

  private Pools() {
  }

  /**
   * Starts a local pool: a master and {@code workers} workers, each with its communication and
   * task threads, over an {@link InProcessNetwork}. The same agents as in an MPI job run it.
   *
   * @param workers the number of workers
   * @param serializeTasks whether tasks and results travel as bytes, as over MPI
   * @param options threads per worker, initializer, seed
   * @return the executor
   */
  public static MpiPoolExecutor local(int workers, boolean serializeTasks, PoolOptions options) {
    if (workers < 1) {
      throw new IllegalArgumentException("a local pool needs at least 1 worker, not " + workers);
    }
    InProcessNetwork network = new InProcessNetwork(workers + 1);
    CommunicationThread masterThread = new CommunicationThread("jmpipool-local-master", () -> network.endpoint(0));
    masterThread.start();
    Codec codec = newCodec();
    DistributedExecutor executor = DistributedExecutor.start(masterThread, masterThread.opened().join(), 0, workers,
        codec, options, !serializeTasks);
    MasterProxy master = executor.front();
    LongFunction<HandedOver> handedOverTasks = serializeTasks ? null : master::handedOverTask;
    for (int rank = 1; rank <= workers; rank++) {
      int workerRank = rank;
      CommunicationThread thread = new CommunicationThread("jmpipool-local-worker-" + rank,
          () -> network.endpoint(workerRank));
      thread.start();
      thread.run(new WorkerAgent(thread.opened().join(), 0, master.layout(), codec, thread, handedOverTasks, null));
    }
    return executor;
  }

  /**
   * Opens a pool on the first {@code workers} worker ranks of the launched job this JVM is the
   * master of, on its own channel.
   *
   * @throws IllegalStateException outside a launched job's master
   * @throws IllegalArgumentException when the job has fewer worker ranks
   */
  public static MpiPoolExecutor onJob(int workers, PoolOptions options) {
    if (workers < 1) {
      throw new IllegalArgumentException("a pool needs at least 1 worker, not " + workers);
    }
    return JobPools.open(workers, options);
  }

  /** Opens a pool on every worker rank of the launched job this JVM is the master of. */
  public static MpiPoolExecutor onJobWithAllRanks(PoolOptions options) {
    return JobPools.open(-1, options);
  }

  /**
   * Makes a {@link MpiPool} of a pool built by this class.
   *
   * @param executor the pool's executor
   * @return the pool; closing it closes the executor
   */
  public static MpiPool mpiPool(MpiPoolExecutor executor) {
    return new ProcessPool((DistributedExecutor) executor);
  }

  /**
   * Makes a {@link WorkerPool} of a pool built by this class.
   *
   * @param executor the pool's executor
   * @return the pool; closing it closes the executor
   */
  public static WorkerPool workerPool(MpiPoolExecutor executor) {
    return new StoringWorkerPool((DistributedExecutor) executor);
  }

  /**
   * Starts a pool of worker processes spawned through MPI from this JVM.
   *
   * @param settings the workers and how to start them
   * @param options threads per worker (passed to the workers as {@code jmpipool.threads}), initializer, seed
   * @return the executor
   * @throws PoolStartException when the workers cannot be started within the start timeout
   */
  public static MpiPoolExecutor spawn(SpawnSettings settings, PoolOptions options) {
    if (settings.workers() < 1) {
      throw new IllegalArgumentException("a spawned pool needs at least 1 worker, not " + settings.workers());
    }
    Duration timeout = settings.startTimeout();
    WorkerCommand command;
    try {
      command = WorkerCommand.of(settings);
    } catch (TransportException e) {
      throw new PoolStartException("cannot start " + settings.workers() + " spawned workers: " + e.getMessage(), e);
    }
    // The first pool of a classpath may have trained the workers' class-data archive: not part of the start.
    long deadline = System.nanoTime() + timeout.toNanos();
    command.check(timeout.toNanos());
    Supplier<Transport> opener = settings.hosts().isEmpty()
        ? () -> MpiTransport.spawn(command.executable(), command.arguments(), settings.workers(),
            command.workingDirectory().toString(), Duration.ofNanos(Math.max(0, deadline - System.nanoTime())))
        : () -> RelayedTransport.launch(command.relayedJob(), settings.workers(), settings.hosts(),
            command.workingDirectory().toString(), Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
    CommunicationThread thread = new CommunicationThread("jmpipool-spawned-pool", opener);
    thread.start();
    Transport transport;
    try {
      // The transport gives up on its own at the deadline; MPI's spawn call itself may never return.
      transport = thread.opened().get(Math.max(0, deadline - System.nanoTime()) + TimeUnit.SECONDS.toNanos(2),
          TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      String reason = "starting " + settings.workers() + " workers did not finish within " + timeout.toSeconds() + " s";
      MpiTransport.abandonSpawn(reason);
      throw new PoolStartException(reason + " (MPI's spawn did not return; spawned pools cannot be used again in"
          + " this JVM)");
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof PoolStartException start) {
        throw start;
      }
      throw new PoolStartException("cannot start " + settings.workers() + " spawned workers: " + cause.getMessage(),
          cause instanceof TransportException ? cause.getCause() : cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new PoolStartException("interrupted while starting spawned workers", e);
    }
    DistributedExecutor executor = DistributedExecutor.start(thread, transport, 0, transport.size() - 1, newCodec(),
        options, false);
    Runnable cancelCloseAtExit = settings.hosts().isEmpty()
        ? MpiTransport.beforeFinalizing(() -> closeAtExit(executor)) : closeAtJvmExit(executor);
    executor.ended().whenComplete((ignored, failure) -> cancelCloseAtExit.run());
    return executor;
  }

  /** A pool on other hosts still open when the JVM exits ends its workers' job in order; this JVM has no MPI to finalize. */
  private static Runnable closeAtJvmExit(MpiPoolExecutor executor) {
    Thread hook = new Thread(() -> closeAtExit(executor), "jmpipool-close-pool-at-exit");
    Runtime.getRuntime().addShutdownHook(hook);
    return () -> {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException exiting) {
        // The JVM is exiting, and the hook is running or has run.
      }
    };
  }

  /** A spawned pool still open when the JVM exits is ended before MPI is finalized. */
  private static void closeAtExit(MpiPoolExecutor executor) {
    if (executor.isTerminated()) {
      return;
    }
    executor.shutdownNow();
    try {
      executor.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Returns a codec for a pool's or a rank's tasks, results and stored objects. */
  public static Codec newCodec() {
    return new Codec(StoredObjects::registerSerializer);
  }

}
