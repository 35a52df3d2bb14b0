package org.jmpipool.internal.master;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Consumer;
import org.jmpipool.BrokenPoolException;
import org.jmpipool.internal.loop.CommunicationThread;
import org.jmpipool.internal.wire.HandedOver;
import org.jmpipool.internal.wire.Payload;
import org.jmpipool.internal.wire.PoolLayout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The front of one pool's {@link MasterAgent} for every other thread: what they ask of the agent
 * goes through two queues (submitted tasks, and commands the agent runs on its next pass), and
 * what the agent publishes (shut down, broken, tasks run and held) is read here. Nothing here
 * blocks or touches a worker.
 *
 * <p>Threads: any. The agent, on the communication thread, drains the queues and writes the
 * published state.
 */
public final class MasterProxy {

  private static final Logger LOG = LoggerFactory.getLogger(MasterProxy.class);

  private final PoolLayout layout;
  private final CommunicationThread thread;
  final ConcurrentLinkedQueue<TaskRecord> submissions = new ConcurrentLinkedQueue<>();
  final ConcurrentLinkedQueue<Consumer<MasterAgent>> commands = new ConcurrentLinkedQueue<>();
  /**
   * The tasks the workers hold, by id; written by the agent. Concurrent so that a dying JVM can
   * say which tasks were held, and a local pool's worker can find a task handed over as an object.
   */
  final Map<Long, TaskRecord> held = new ConcurrentHashMap<>();
  /** Set by a shutdown, or by the agent when the pool breaks. */
  volatile boolean shutdown;
  /** Set by the agent once the pool broke: it then fails everything it holds or gets. */
  volatile BrokenPoolException broken;
  /** Results and failures received: tasks that ran. Written by the agent only. */
  volatile long tasksRun;
  /** Hears of signals that reached a worker; the launched job's master ends the job then. */
  volatile WorkerSignalListener workerSignals = (rank, name, number) ->
      LOG.warn("jmpipool: worker rank {} received SIG{}", rank, name);

  /** Hears of a signal that reached a worker; called on the communication thread, must not block. */
  @FunctionalInterface
  public interface WorkerSignalListener {
    /**
     * A worker received a signal.
     *
     * @param rank the worker's rank
     * @param name the signal's name, such as {@code TERM}
     * @param number its number
     */
    void signalled(int rank, String name, int number);
  }

  /**
   * Creates the front of a pool whose agent runs on {@code thread}.
   *
   * @param layout the pool's workers
   * @param thread the communication thread, unparked when work arrives
   */
  MasterProxy(PoolLayout layout, CommunicationThread thread) {
    this.layout = layout;
    this.thread = thread;
  }

  /** Returns the pool's workers. */
  public PoolLayout layout() {
    return layout;
  }

  /** Returns the number of workers of the pool. */
  int workerCount() {
    return layout.workers();
  }

  /** Queues a task. */
  void submit(TaskRecord record) {
    submissions.add(record);
    if (broken != null) {
      // The agent may have ended before this task was queued: nobody else will fail it.
      failSubmissions(broken);
    }
    // A caller that waits for its result runs the pass that sends it.
    thread.wakeUnlessHelped();
  }

  /** Fails the tasks still queued for the agent. */
  void failSubmissions(Throwable failure) {
    TaskRecord record;
    while ((record = submissions.poll()) != null) {
      record.dropPayload();
      record.completion.onFailure(failure);
    }
  }

  /** Returns the communication thread, whose passes a waiting caller may run. */
  CommunicationThread communication() {
    return thread;
  }

  /** Runs a command on the communication thread, in order with the others. */
  private void execute(Consumer<MasterAgent> command) {
    commands.add(command);
    thread.wake();
  }

  /** Returns why the pool broke, or {@code null} while it works. */
  public BrokenPoolException broken() {
    return broken;
  }

  /**
   * Accepts no more tasks: once those already submitted are answered, the workers are stopped.
   * The caller makes sure no submission races with it.
   */
  void markShutdown() {
    shutdown = true;
    thread.wake();
  }

  boolean isShutdown() {
    return shutdown;
  }

  /** Returns how many tasks have run, with a result or a failure. */
  long tasksRun() {
    return tasksRun;
  }

  /** Returns how many tasks the workers hold (running, or queued on them). */
  int tasksHeld() {
    return held.size();
  }

  /**
   * Returns a task handed over as an object that some worker holds, or {@code null} once the
   * master let go of it (its pool broke); for the workers of a local pool that does not serialize.
   */
  public HandedOver handedOverTask(long id) {
    TaskRecord record = held.get(id);
    return record == null ? null : record.handedOver;
  }

  /**
   * Describes the tasks each worker holds, for messages about a job that ends abnormally (the
   * answer may be a moment old).
   *
   * @return one entry per worker holding tasks: rank to task ids
   */
  public Map<Integer, List<Long>> heldTasksByWorker() {
    Map<Integer, List<Long>> byWorker = new TreeMap<>();
    for (TaskRecord record : held.values()) {
      byWorker.computeIfAbsent(layout.rankOf(record.workerIndex), r -> new ArrayList<>()).add(record.id);
    }
    byWorker.values().forEach(ids -> ids.sort(null));
    return byWorker;
  }

  /** Sets what happens when a worker reports a signal. */
  public void onWorkerSignal(WorkerSignalListener listener) {
    workerSignals = listener;
  }

  /** Cancels a task on behalf of its future. */
  void cancel(TaskRecord record, boolean interrupt) {
    execute(agent -> agent.cancel(record, interrupt));
  }

  /**
   * Cancels every task not started, and interrupts every running one if asked to.
   *
   * @param interrupt whether running tasks are interrupted
   * @param reason completes "a task ..." in the message of the cancelled tasks' exceptions
   * @param onMaster completes at once with the tasks that were still on the master
   * @param everywhere completes with those and the tasks the workers gave back
   */
  void cancelAll(boolean interrupt, String reason, CompletableFuture<List<Runnable>> onMaster,
      CompletableFuture<List<Runnable>> everywhere) {
    execute(agent -> agent.cancelAll(interrupt, reason, onMaster, everywhere));
  }

  /**
   * Stores an object on every worker, along the broadcast tree; frames already queued for a
   * worker reach it first.
   *
   * @param id the object's {@code RemoteRef} number
   * @param encoded the object's encoding, which the agent takes over
   */
  void storeEverywhere(long id, Payload encoded) {
    execute(agent -> agent.storeEverywhere(id, encoded));
  }

  /** Stores an object on one worker. */
  void storeOn(int workerIndex, long id, Payload encoded) {
    execute(agent -> agent.storeOn(workerIndex, id, encoded));
  }

  /** Drops an object on every worker. */
  void free(long id) {
    execute(agent -> agent.free(id));
  }

  /** Asks the workers of a new pool, on this pool's channel 0, to serve it on its own channel. */
  public void openPool(int poolChannel, PoolLayout poolLayout) {
    Payload encoded = Payload.of(poolLayout.encode());
    execute(agent -> agent.openPool(poolChannel, poolLayout, encoded));
  }
}
