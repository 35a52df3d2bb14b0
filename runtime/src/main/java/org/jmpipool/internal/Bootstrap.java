package org.jmpipool.internal;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.jmpipool.MpiPoolExecutor;
import org.jmpipool.internal.job.ExitWatch;
import org.jmpipool.internal.job.JobPools;
import org.jmpipool.internal.job.ProgramArguments;
import org.jmpipool.internal.job.ProgramRunner;
import org.jmpipool.internal.job.SignalDrain;
import org.jmpipool.internal.loop.CommunicationThread;
import org.jmpipool.internal.master.DistributedExecutor;
import org.jmpipool.internal.master.MasterProxy;
import org.jmpipool.internal.master.PoolOptions;
import org.jmpipool.internal.transport.MpiTransport;
import org.jmpipool.internal.transport.Transport;
import org.jmpipool.internal.wire.Codec;
import org.jmpipool.internal.wire.PoolLayout;
import org.jmpipool.internal.worker.WorkerAgent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The main class of every rank of a launched job: {@code Bootstrap MAIN_CLASS [ARGS...]}.
 * Rank 0 runs the program with the job's executor; the other ranks serve tasks until told to
 * stop. Whatever the program does (returns, throws, calls {@code System.exit}), every rank ends,
 * in bounded time, and the job's exit status says how it went.
 *
 * <p>Threads: the rank's main thread runs the program or serves tasks; signal and exit handlers
 * ({@link ExitWatch}) run on the JVM's threads for them.
 */
public final class Bootstrap {

  private static final Logger LOG = LoggerFactory.getLogger(Bootstrap.class);

  /** Exit status when the program ran and returned. */
  static final int EXIT_OK = 0;
  /** Exit status when the program threw, or the job failed. */
  static final int EXIT_FAILED = 1;
  /** Exit status when the program could not be started (no such class, no main, a single rank). */
  static final int EXIT_UNUSABLE = 2;
  /** How long workers get to stop after the program failed or exited, before the job is aborted. */
  private static final long STOP_GRACE_SECONDS = 10;
  /** How long a worker exiting on its own waits for the master to end the job. */
  private static final long MASTER_REACTION_MILLIS = 2_000;

  private Bootstrap() {
  }

  /**
   * Runs a rank.
   *
   * @param args the program's class name, then its arguments
   */
  public static void main(String[] args) {
    if (args.length < 1) {
      System.err.println("usage: " + Bootstrap.class.getName() + " MAIN_CLASS [ARGS...] (started by bin/jmpipool)");
      System.exit(EXIT_UNUSABLE);
    }
    Started rank = start(MpiTransport::joinWorld, "");
    CommunicationThread comm = rank.comm();
    Transport transport = rank.transport();
    Codec codec = rank.codec();
    LOG.debug("rank {} of {} on host {}, {}", transport.rank(), transport.size(), transport.host(),
        transport.rank() == 0 ? "master" : "worker");
    int status = transport.rank() == 0
        ? runMaster(comm, transport, codec, args[0], Arrays.copyOfRange(args, 1, args.length))
        : serveTasks(comm, transport, codec);
    LOG.debug("rank {} exits with status {}", transport.rank(), status);
    System.exit(status);
  }

  /** A process's communication thread, its open transport, and its codec. */
  record Started(CommunicationThread comm, Transport transport, Codec codec) {
  }

  /**
   * Opens a transport on a new communication thread, loading the codec meanwhile (MPI start-up
   * mostly waits for other processes). A transport that cannot be opened ends the JVM with one
   * line saying why.
   *
   * @param who prefixes the message, naming the kind of process
   */
  static Started start(Supplier<Transport> opener, String who) {
    CommunicationThread comm = new CommunicationThread("jmpipool-comm", opener);
    comm.start();
    Codec codec = Pools.newCodec();
    codec.warmUp();
    try {
      return new Started(comm, comm.opened().join(), codec);
    } catch (CompletionException e) {
      System.err.println("jmpipool: " + who + e.getCause().getMessage());
      System.exit(EXIT_FAILED);
      throw new IllegalStateException("unreachable", e);
    }
  }

  private static int runMaster(CommunicationThread comm, Transport transport, Codec codec, String className,
      String[] programArgs) {
    DistributedExecutor world = DistributedExecutor.start(comm, transport, 0, transport.size() - 1, codec,
        new PoolOptions(JobContext.threadsPerWorker(), null, JobContext.seed()), false);
    MasterProxy master = world.front();
    JobPools.install(comm, transport, world);
    ProgramRunner.Program program;
    MpiPoolExecutor executor = world;
    String[] arguments;
    try {
      arguments = ProgramArguments.readIfPassed(programArgs);
      program = ProgramRunner.resolve(className);
      if (world.workers() == 0) {
        executor = serialPool();
      }
    } catch (IllegalArgumentException | IllegalStateException e) {
      System.err.println("jmpipool: " + e.getMessage());
      world.close();
      return EXIT_UNUSABLE;
    }
    JobContext.install(executor);
    MpiPoolExecutor pool = executor;
    ExitWatch watch = new ExitWatch("master", (who, signal, number) -> {
      reportHeldTasks(who, signal, master, transport);
      List<DistributedExecutor> pools = new java.util.ArrayList<>(JobPools.openPools());
      if (pool != world) {
        pools.add((DistributedExecutor) pool);
      }
      pools.add(world);
      SignalDrain.run(signal, pools);
      System.exit(128 + number);
    }).install(() -> stopWorkers(pool, transport, EXIT_FAILED));
    // A signal that reached only a worker (a user's kill, a node's scheduler) ends the job the same way.
    master.onWorkerSignal((rank, name, number) -> watch.relay("worker rank " + rank, name, number));
    int status = EXIT_OK;
    try {
      program.run(pool, arguments);
    } catch (Throwable failure) {
      watch.yieldToSignal();
      System.err.println("jmpipool: " + className + " failed; ending the job");
      failure.printStackTrace();
      status = EXIT_FAILED;
    }
    watch.yieldToSignal();
    if (pool != world) {
      stopWorkers(pool, transport, status);
    }
    JobPools.endOpenPools(STOP_GRACE_SECONDS);
    stopWorkers(world, transport, status);
    watch.disarm();
    // A signal that came while the pools were stopping is being handled: its status wins.
    watch.yieldToSignal();
    return status;
  }

  /**
   * A job of a single rank has no worker ranks: as the serial policy says, refuse, or run the
   * tasks on one thread of this rank (serialized as usual, so nothing changes on more ranks).
   */
  private static MpiPoolExecutor serialPool() {
    JobContext.acceptSerial("the job has a single rank and so no worker ranks; rank 0 would run the tasks on a thread",
        "start at least 2 ranks");
    return Pools.local(1, true, new PoolOptions(1, null, JobContext.seed()));
  }

  /** Ends the pool in order after success; after a failure, cancels what is left first. */
  private static void stopWorkers(MpiPoolExecutor executor, Transport transport, int status) {
    if (status == EXIT_OK) {
      executor.close();
      return;
    }
    executor.shutdownNow();
    try {
      if (!executor.awaitTermination(STOP_GRACE_SECONDS, TimeUnit.SECONDS)) {
        System.err.println("jmpipool: workers did not stop within " + STOP_GRACE_SECONDS + " s; aborting the job");
        transport.abort(status);
      }
    } catch (InterruptedException e) {
      transport.abort(status);
    }
  }

  /**
   * The job is being ended by a signal: say at once which tasks each worker holds, and when each
   * was last heard from, which tells a lost node's ranks (after a rank or node failed, mpirun
   * kills the job a second after its SIGTERM, before any orderly end).
   */
  private static void reportHeldTasks(String who, String signal, MasterProxy master, Transport transport) {
    String heardFrom = transport.heardFrom();
    System.err.println("jmpipool: " + who + " received SIG" + signal + " (from the MPI runtime after a rank failed,"
        + " or from the user or scheduler); tasks held by workers: " + describe(master.heldTasksByWorker())
        + (heardFrom.isEmpty() ? "" : "; silent for: " + heardFrom));
  }

  private static String describe(Map<Integer, List<Long>> tasksByWorker) {
    if (tasksByWorker.isEmpty()) {
      return "none";
    }
    StringBuilder text = new StringBuilder();
    tasksByWorker.forEach((rank, ids) -> text.append(text.length() == 0 ? "" : "; ")
        .append("rank ").append(rank).append(": tasks ").append(ids));
    return text.toString();
  }

  /**
   * Serves a master's tasks until it says stop (a worker rank of a launched job, or a spawned
   * worker).
   *
   * @return the exit status
   */
  static int serveTasks(CommunicationThread comm, Transport transport, Codec codec) {
    JobContext.markWorker(transport.rank());
    PoolLayout layout = PoolLayout.allRanks(transport.size(), JobContext.threadsPerWorker());
    WorkerAgent agent = new WorkerAgent(transport, 0, layout, codec, comm, null,
        (channel, poolLayout) -> comm.run(new WorkerAgent(transport, channel, poolLayout, codec, comm, null, null)));
    // A signal reaches every rank at once (srun, a scheduler): the master ends the job in order,
    // letting running tasks finish, so a worker keeps serving until told to stop; it gives up
    // only if the master never says so. Only an exit nobody asked for (System.exit in a task)
    // needs explaining to the master.
    ExitWatch watch = new ExitWatch("worker rank " + transport.rank(), (who, signal, number) -> {
      agent.reportSignal(signal, number);
      haltUnlessStopped(number);
    }).install(() -> {
      if (!agent.stopping()) {
        try {
          agent.announceExit("System.exit was called, by a task", 1_000);
          // Let the master report it and end the job; exiting first would make mpirun end the
          // job, and it may drop the master's report.
          Thread.sleep(MASTER_REACTION_MILLIS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    });
    comm.run(agent);
    try {
      comm.finished().join();
    } catch (CompletionException e) {
      return EXIT_FAILED;
    } finally {
      watch.disarm();
    }
    return EXIT_OK;
  }

  /** A worker told by a signal that the job ends waits for the master's stop, but not forever. */
  private static void haltUnlessStopped(int signalNumber) {
    Thread fallback = new Thread(() -> {
      try {
        Thread.sleep(TimeUnit.SECONDS.toMillis(SignalDrain.graceSeconds() + 2 * STOP_GRACE_SECONDS));
      } catch (InterruptedException e) {
        return;
      }
      System.err.println("jmpipool: worker got no stop from the master after the signal; exiting");
      Runtime.getRuntime().halt(128 + signalNumber);
    }, "jmpipool-signal-fallback");
    fallback.setDaemon(true);
    fallback.start();
  }
}
