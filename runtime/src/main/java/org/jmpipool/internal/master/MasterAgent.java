package org.jmpipool.internal.master;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.jmpipool.BrokenPoolException;
import org.jmpipool.internal.loop.Agent;
import org.jmpipool.internal.loop.IdleStrategy;
import org.jmpipool.internal.transport.Transport;
import org.jmpipool.internal.wire.Inbox;
import org.jmpipool.internal.wire.Outbox;
import org.jmpipool.internal.wire.Payload;
import org.jmpipool.internal.wire.PoolLayout;
import org.jmpipool.internal.wire.TaskKind;
import org.jmpipool.internal.wire.ThrowableCodec;
import org.jmpipool.internal.wire.Wire;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The master's communication loop for one pool: takes submitted tasks, hands them to workers
 * with free credit (several per worker, batched into one message per worker and pass), matches
 * results to tasks by id, and stops the workers once the executor is shut down and idle.
 *
 * <p>Each worker's credit (tasks it may hold) follows the measured task time: enough tasks to
 * cover a round trip for each of its task threads, so that no thread waits for the next task,
 * and no more, so that long tasks stay balanced across workers. Tasks meant for one worker (an
 * initializer, {@code WorkerPool.applyOn}) wait in that worker's own queue and go first,
 * regardless of credit.
 *
 * <p>A pool breaks in one of two ways. A worker that ends unexpectedly takes the whole pool with
 * it (its tasks are lost, and MPI may no longer deliver): everything fails and the transport is
 * aborted. An initializer that fails leaves the workers running: everything fails, and the
 * workers are told to drop their tasks and stop, as in an orderly end.
 */
public final class MasterAgent implements Agent, Wire.FrameHandler {

  private static final Logger LOG = LoggerFactory.getLogger(MasterAgent.class);
  private static final int MAX_MESSAGES_PER_PASS = 64;
  /** A worker holds tasks worth about this much work per task thread, so a round trip never starves it. */
  private static final long CREDIT_COVER_NANOS = 1_000_000;
  private static final int MIN_CREDIT = 2;
  private static final int MAX_CREDIT = 1024;
  /** Stop adding tasks to a worker's batch beyond this size; the rest go in the next message. */
  private static final int MAX_BATCH_BYTES = 1 << 20;
  /** How long a pool broken by its initializer waits for its workers to stop before it counts as ended. */
  private static final long BROKEN_STOP_GRACE_NANOS = TimeUnit.SECONDS.toNanos(10);
  /** Why tasks are cancelled by a shutdown, completing "a task ...". */
  static final String SHUT_DOWN = "was cancelled before it started (the executor was shut down)";

  private final Transport transport;
  private final int channel;
  private final PoolLayout layout;
  private volatile boolean shutdown;
  /** Set once the pool broke: it then fails everything it holds or gets. */
  private volatile BrokenPoolException broken;
  /** Whether the pool broke with its workers still running (they are then stopped in order). */
  private boolean brokenSoftly;
  private long brokenAt;
  private final ConcurrentLinkedQueue<TaskRecord> submissions = new ConcurrentLinkedQueue<>();
  private final ConcurrentLinkedQueue<Runnable> commands = new ConcurrentLinkedQueue<>();
  private final ArrayDeque<TaskRecord> waiting = new ArrayDeque<>();
  /** Concurrent only so that a dying JVM can say which tasks were held without asking this thread. */
  private final Map<Long, TaskRecord> held = new ConcurrentHashMap<>();
  private final WorkerLink[] workers;
  private final Inbox inbox;
  private final Thread thread;
  private long nextId = 1;
  private boolean stopSent;
  private int stoppedWorkers;
  /** The cancellations in progress, oldest first. */
  private final ArrayDeque<CancelAll> cancellations = new ArrayDeque<>();
  private long cancellationsStarted;
  /** Results and failures received: tasks that ran. Written by the communication thread only. */
  private volatile long tasksRun;
  /** Hears of signals that reached a worker; the launched job's master ends the job then. */
  private volatile WorkerSignalListener workerSignals = (rank, name, number) ->
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

  /** What the master knows of one worker. */
  private static final class WorkerLink {
    final int rank;
    final Outbox outbox;
    final int threads;
    /** Tasks for this worker only, sent before any other. */
    final ArrayDeque<TaskRecord> pinned = new ArrayDeque<>();
    int holding;
    /** Moving average of the time per task, or -1 before the first result. */
    private double averageNanos = -1;
    /** How many tasks the worker may hold; follows {@link #averageNanos}. */
    int credit;

    WorkerLink(int rank, int channel, int threads) {
      this.rank = rank;
      this.outbox = new Outbox(rank, channel);
      this.threads = threads;
      this.credit = MIN_CREDIT * threads;
    }

    void observe(long executionNanos) {
      averageNanos = averageNanos < 0 ? executionNanos : 0.8 * averageNanos + 0.2 * executionNanos;
      double cover = CREDIT_COVER_NANOS / Math.max(averageNanos, 1.0);
      credit = (int) Math.max(MIN_CREDIT, Math.min(MAX_CREDIT, Math.ceil(cover) + 1)) * threads;
    }
  }

  /**
   * A cancellation of every unstarted task in progress: waits for each worker it was sent to to
   * give back its own. Several can be in progress (a signal's drain, then shutdownNow's
   * interrupt); each has its number, which the workers echo.
   */
  private static final class CancelAll {
    final long number;
    final List<Runnable> notStarted = new ArrayList<>();
    final CompletableFuture<List<Runnable>> done;
    final String reason;
    /** The ranks that have not answered yet. */
    final Set<Integer> awaited = new HashSet<>();

    CancelAll(long number, CompletableFuture<List<Runnable>> done, String reason) {
      this.number = number;
      this.done = done;
      this.reason = reason;
    }

    void complete() {
      done.complete(notStarted);
    }
  }

  /**
   * Creates the agent.
   *
   * @param channel the pool's channel
   * @param layout the pool's workers
   * @param thread the communication thread, unparked when work arrives
   */
  public MasterAgent(Transport transport, int channel, PoolLayout layout, Thread thread) {
    this.transport = transport;
    this.channel = channel;
    this.layout = layout;
    this.thread = thread;
    this.inbox = new Inbox(transport, channel, this);
    this.workers = new WorkerLink[layout.workers()];
    for (int i = 0; i < workers.length; i++) {
      workers[i] = new WorkerLink(layout.rankOf(i), channel, layout.threadsPerWorker());
    }
  }

  int workerCount() {
    return workers.length;
  }

  PoolLayout layout() {
    return layout;
  }

  /** Returns how many tasks have run (with a result or a failure); any thread. */
  long tasksRun() {
    return tasksRun;
  }

  /** Returns how many tasks the workers hold (running, or queued on them); any thread. */
  int tasksHeld() {
    return held.size();
  }

  /** Returns the record of a task some worker holds, or {@code null}; any thread. */
  public TaskRecord heldTask(long id) {
    return held.get(id);
  }

  /** Queues a task; any thread. */
  void submit(TaskRecord record) {
    submissions.add(record);
    if (broken != null) {
      // The loop may have ended before this task was queued: nobody else will fail it.
      failSubmissions(broken);
    }
    LockSupport.unpark(thread);
  }

  /** Returns why the pool broke, or {@code null} while it works. */
  BrokenPoolException broken() {
    return broken;
  }

  /**
   * Accepts no more tasks: once those already submitted are answered, the workers are stopped
   * and the transport closed. Any thread; the caller makes sure no submission races with it.
   */
  void markShutdown() {
    shutdown = true;
    LockSupport.unpark(thread);
  }

  boolean isShutdown() {
    return shutdown;
  }

  /** Sets what happens when a worker reports a signal; any thread. */
  public void onWorkerSignal(WorkerSignalListener listener) {
    workerSignals = listener;
  }

  /** Runs an action on the communication thread; any thread. */
  void execute(Runnable command) {
    commands.add(command);
    LockSupport.unpark(thread);
  }

  @Override
  public int doWork() {
    if (broken == null && stoppedWorkers < workers.length) {
      Transport.LostPeer lost = transport.lostPeer();
      if (lost != null) {
        breakPool(lost.rank(), lost.description(), null, false);
        return 1;
      }
    }
    int work = runCommands();
    work += takeSubmissions();
    for (int i = 0; i < MAX_MESSAGES_PER_PASS && inbox.receive(); i++) {
      work++;
    }
    work += dispatch();
    work += flush();
    stopWorkersWhenIdle();
    return work;
  }

  @Override
  public boolean done() {
    if (broken != null && (!brokenSoftly || System.nanoTime() - brokenAt > BROKEN_STOP_GRACE_NANOS)) {
      return true;
    }
    if (!stopSent || stoppedWorkers < workers.length) {
      return false;
    }
    for (WorkerLink worker : workers) {
      worker.outbox.reapCompleted();
      if (worker.outbox.sending()) {
        return false;
      }
    }
    return true;
  }

  @Override
  public IdleStrategy.Expecting expecting() {
    for (WorkerLink worker : workers) {
      if (worker.outbox.sending()) {
        return IdleStrategy.Expecting.SEND_PROGRESS;
      }
    }
    return held.isEmpty() ? IdleStrategy.Expecting.LOCAL_EVENT : IdleStrategy.Expecting.MESSAGE;
  }

  @Override
  public void onFatal(Throwable failure) {
    failAll(failure);
  }

  private int runCommands() {
    int count = 0;
    Runnable command;
    while ((command = commands.poll()) != null) {
      command.run();
      count++;
    }
    return count;
  }

  private int takeSubmissions() {
    int count = 0;
    TaskRecord record;
    while ((record = submissions.poll()) != null) {
      if (record.target >= 0) {
        workers[record.target].pinned.add(record);
      } else {
        waiting.add(record);
      }
      count++;
    }
    return count;
  }

  /**
   * Hands waiting tasks to the workers holding the fewest, ties to the lowest rank: tasks spread
   * evenly under load, and a caller waiting for each result in turn keeps one worker awake while
   * the others idle.
   */
  private int dispatch() {
    int sent = 0;
    for (WorkerLink worker : workers) {
      TaskRecord record;
      while ((record = worker.pinned.poll()) != null) {
        sent += send(record, worker);
      }
    }
    while (!waiting.isEmpty()) {
      WorkerLink worker = leastLoadedWithCredit();
      if (worker == null) {
        break;
      }
      sent += send(waiting.poll(), worker);
    }
    return sent;
  }

  private int send(TaskRecord record, WorkerLink worker) {
    if (record.cancelled) {
      record.dropPayload();
      return 0;
    }
    record.id = nextId++;
    record.worker = worker.rank;
    held.put(record.id, record);
    worker.holding++;
    worker.outbox.append(Wire.TASK, record.kind.flags(), record.id, record.randomBase, record.payload);
    record.payload = null;
    return 1;
  }

  private WorkerLink leastLoadedWithCredit() {
    WorkerLink best = null;
    for (WorkerLink worker : workers) {
      if (worker.holding < worker.credit && worker.outbox.pendingBytes() <= MAX_BATCH_BYTES
          && (best == null || worker.holding < best.holding)) {
        best = worker;
      }
    }
    return best;
  }

  private int flush() {
    int work = 0;
    for (WorkerLink worker : workers) {
      work += worker.outbox.reapCompleted();
      if (worker.outbox.flush(transport)) {
        work++;
      }
    }
    return work;
  }

  private void stopWorkersWhenIdle() {
    if (!stopSent && shutdown && submissions.isEmpty() && waiting.isEmpty()
        && held.isEmpty() && commands.isEmpty() && noPinnedTasks()) {
      sendStop();
    }
  }

  private boolean noPinnedTasks() {
    for (WorkerLink worker : workers) {
      if (!worker.pinned.isEmpty()) {
        return false;
      }
    }
    return true;
  }

  private void sendStop() {
    for (WorkerLink worker : workers) {
      worker.outbox.append(Wire.STOP, (byte) 0, 0, 0);
    }
    stopSent = true;
    flush();
  }

  /**
   * Stores an object on every worker: sent to a few, which forward it along the broadcast tree.
   * Any thread; frames already queued for a worker reach it first.
   *
   * @param id the object's {@code RemoteRef} number
   * @param encoded the object's encoding
   */
  void storeEverywhere(long id, Payload encoded) {
    execute(() -> {
      for (int target : layout.broadcastTargets(0)) {
        workers[target].outbox.append(Wire.STORE, (byte) 1, id, 0, encoded.share());
      }
      encoded.release();
    });
  }

  /** Stores an object on one worker; any thread. */
  void storeOn(int workerIndex, long id, Payload encoded) {
    execute(() -> workers[workerIndex].outbox.append(Wire.STORE, (byte) 0, id, 0, encoded));
  }

  /**
   * Asks the workers of a new pool, on this pool's channel 0, to serve it on its own channel;
   * any thread.
   */
  public void openPool(int poolChannel, PoolLayout poolLayout) {
    Payload encoded = Payload.of(poolLayout.encode());
    execute(() -> {
      for (int rank : poolLayout.members()) {
        workers[layout.indexOf(rank)].outbox.append(Wire.OPEN, (byte) 0, poolChannel, 0, encoded);
      }
    });
  }

  /** Drops an object on every worker; any thread. */
  void free(long id) {
    execute(() -> {
      if (broken == null && !stopSent) {
        for (WorkerLink worker : workers) {
          worker.outbox.append(Wire.FREE, (byte) 0, id, 0);
        }
      }
    });
  }

  @Override
  public void onFrame(int source, byte type, byte flags, long id, long aux, Payload payload) {
    switch (type) {
      case Wire.RESULT -> {
        TaskRecord record = release(source, id, aux);
        if (record != null) {
          tasksRun++;
          record.completion.onResult(payload, aux);
        } else {
          payload.release();
        }
      }
      case Wire.FAILED -> {
        TaskRecord record = release(source, id, aux);
        if (record != null) {
          tasksRun++;
          if (record.handedOver != null) {
            record.completion.onFailure(record.handedOver.failure());
          } else {
            record.completion.onRemoteFailure(payload);
          }
        } else {
          payload.release();
        }
      }
      case Wire.NOT_STARTED -> {
        TaskRecord record = release(source, id, -1);
        if (record != null) {
          CancelAll request = cancellationAwaiting(source);
          if (request != null && record.kind != TaskKind.INIT) {
            request.notStarted.add(record.original);
          }
          record.completion.onNotStarted(request != null ? request.reason : SHUT_DOWN);
        }
      }
      case Wire.CANCEL_ALL_DONE -> {
        for (Iterator<CancelAll> it = cancellations.iterator(); it.hasNext(); ) {
          CancelAll request = it.next();
          if (request.number == aux && request.awaited.remove(source) && request.awaited.isEmpty()) {
            it.remove();
            request.complete();
          }
        }
      }
      case Wire.STOPPED -> stoppedWorkers++;
      case Wire.SIGNALLED -> workerSignals.signalled(source, new String(payload.toArray(), StandardCharsets.UTF_8),
          (int) id);
      case Wire.WORKER_EXITING -> breakPool(source,
          "worker rank " + source + " is exiting (" + new String(payload.toArray(), StandardCharsets.UTF_8) + ")",
          null, false);
      default -> throw new IllegalStateException("unexpected frame type " + type + " from rank " + source);
    }
  }

  private TaskRecord release(int source, long id, long executionNanos) {
    TaskRecord record = held.remove(id);
    if (record == null) {
      if (broken != null) {
        // Failed already when the pool broke; the worker answers as it drops its tasks.
        return null;
      }
      throw new IllegalStateException("rank " + source + " answered task " + id + ", which it does not hold");
    }
    WorkerLink worker = workers[record.worker - 1];
    worker.holding--;
    if (executionNanos >= 0) {
      worker.observe(executionNanos);
    }
    return record;
  }

  /** Cancels a task on behalf of its future; any thread. */
  void cancel(TaskRecord record, boolean interrupt) {
    execute(() -> {
      if (record.worker < 0) {
        record.cancelled = true;
      } else if (held.containsKey(record.id)) {
        workers[record.worker - 1].outbox.append(Wire.CANCEL, (byte) (interrupt ? 1 : 0), record.id, 0);
      }
    });
  }

  /**
   * Cancels every task not started, and interrupts every running one if asked to; any thread.
   *
   * @param interrupt whether running tasks are interrupted
   * @param reason completes "a task ..." in the message of the cancelled tasks' exceptions
   * @param onMaster completes at once with the tasks that were still on the master
   * @param everywhere completes with those and the tasks the workers gave back
   */
  void cancelAll(boolean interrupt, String reason, CompletableFuture<List<Runnable>> onMaster,
      CompletableFuture<List<Runnable>> everywhere) {
    execute(() -> {
      takeSubmissions();
      CancelAll request = new CancelAll(++cancellationsStarted, everywhere, reason);
      for (TaskRecord record : unsentTasks()) {
        if (!record.cancelled) {
          // An initializer is the pool's, not a task the caller submitted: not reported as one.
          if (record.kind != TaskKind.INIT) {
            request.notStarted.add(record.original);
          }
          record.completion.onNotStarted(reason);
        }
      }
      onMaster.complete(List.copyOf(request.notStarted));
      for (WorkerLink worker : workers) {
        if (worker.holding > 0) {
          worker.outbox.append(Wire.CANCEL_ALL, (byte) (interrupt ? 1 : 0), 0, request.number);
          request.awaited.add(worker.rank);
        }
      }
      if (request.awaited.isEmpty()) {
        request.complete();
      } else {
        cancellations.add(request);
      }
    });
  }

  /**
   * The oldest cancellation still waiting for a worker: the tasks that worker gives back before
   * answering it were cancelled by it (a worker answers in order).
   */
  private CancelAll cancellationAwaiting(int rank) {
    for (CancelAll request : cancellations) {
      if (request.awaited.contains(rank)) {
        return request;
      }
    }
    return null;
  }

  /**
   * Describes the tasks each worker holds, for messages about a job that ends abnormally; any
   * thread (the answer may be a moment old).
   *
   * @return one entry per worker holding tasks: rank to task ids
   */
  public Map<Integer, List<Long>> heldTasksByWorker() {
    Map<Integer, List<Long>> byWorker = new TreeMap<>();
    for (TaskRecord record : held.values()) {
      byWorker.computeIfAbsent(record.worker, r -> new ArrayList<>()).add(record.id);
    }
    byWorker.values().forEach(ids -> ids.sort(null));
    return byWorker;
  }

  /**
   * The pool's initializer failed on a worker; communication thread. The pool breaks, softly:
   * the workers are alive, so they are told to drop their tasks and stop.
   */
  void initializerFailed(int workerRank, Throwable failure) {
    breakPool(workerRank, "the initializer failed on worker rank " + workerRank + ": " + ThrowableCodec.safeToString(failure),
        failure, true);
  }

  /** Takes the tasks not yet sent to any worker out of the queues; they will not be sent. */
  private List<TaskRecord> unsentTasks() {
    List<TaskRecord> unsent = new ArrayList<>(waiting);
    waiting.clear();
    for (WorkerLink worker : workers) {
      unsent.addAll(worker.pinned);
      worker.pinned.clear();
    }
    unsent.forEach(TaskRecord::dropPayload);
    return unsent;
  }

  /**
   * The pool can run no more tasks. Everything held fails. After a worker ended, or is ending,
   * on its own, its tasks are lost and the others' results may never come (a spawned pool's
   * workers are ended together): the pool ends at once, in a launched job the whole job, in an
   * embedded pool only its workers. After a soft break the workers stop in order.
   */
  private void breakPool(int workerRank, String what, Throwable cause, boolean soft) {
    if (broken != null) {
      return;
    }
    String message = soft ? what + "; the pool is broken"
        : what + " while holding tasks " + heldTasksByWorker().getOrDefault(workerRank, List.of())
            + "; the pool is broken";
    LOG.error("jmpipool: {}", message);
    broken = new BrokenPoolException(message, workerRank, cause);
    brokenSoftly = soft;
    brokenAt = System.nanoTime();
    shutdown = true;
    failAll(broken);
    cancellations.forEach(CancelAll::complete);
    cancellations.clear();
    if (!soft) {
      transport.abort(1);
    } else if (!stopSent) {
      for (WorkerLink worker : workers) {
        worker.outbox.append(Wire.CANCEL_ALL, (byte) 1, 0, 0);
      }
      sendStop();
    }
  }

  private void failSubmissions(Throwable failure) {
    TaskRecord record;
    while ((record = submissions.poll()) != null) {
      record.dropPayload();
      record.completion.onFailure(failure);
    }
  }

  private void failAll(Throwable failure) {
    failSubmissions(failure);
    for (TaskRecord record : unsentTasks()) {
      record.completion.onFailure(failure);
    }
    List<TaskRecord> wasHeld = new ArrayList<>(held.values());
    held.clear();
    for (WorkerLink worker : workers) {
      worker.holding = 0;
    }
    for (TaskRecord record : wasHeld) {
      record.completion.onFailure(failure);
    }
  }
}
