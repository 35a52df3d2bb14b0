package org.jmpipool.internal;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;
import org.jmpipool.BrokenPoolException;
import org.jmpipool.internal.transport.Transport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The master's communication loop: takes submitted tasks, hands them to workers with free
 * credit (several per worker, batched into one message per worker and pass), matches results to
 * tasks by id, and stops the workers once the executor is shut down and idle.
 *
 * <p>Each worker's credit (tasks it may hold) follows the measured task time: enough tasks to
 * cover a round trip, so that a worker never waits for the next task, and no more, so that long
 * tasks stay balanced across workers.
 */
final class MasterAgent implements Agent, Transport.MessageHandler, Wire.FrameHandler {

  private static final Logger LOG = LoggerFactory.getLogger(MasterAgent.class);
  private static final int MAX_MESSAGES_PER_PASS = 64;
  /** A worker holds tasks worth about this much work, so a round trip never starves it. */
  private static final long CREDIT_COVER_NANOS = 1_000_000;
  private static final int MIN_CREDIT = 2;
  private static final int MAX_CREDIT = 1024;
  /** Stop adding tasks to a worker's batch beyond this size; the rest go in the next message. */
  private static final int MAX_BATCH_BYTES = 1 << 20;

  private final Transport transport;
  private volatile boolean shutdown;
  /** Set once a worker ended unexpectedly: the pool then fails everything it holds or gets. */
  private volatile BrokenPoolException broken;
  private final ConcurrentLinkedQueue<TaskRecord> submissions = new ConcurrentLinkedQueue<>();
  private final ConcurrentLinkedQueue<Runnable> commands = new ConcurrentLinkedQueue<>();
  private final ArrayDeque<TaskRecord> waiting = new ArrayDeque<>();
  /** Concurrent only so that a dying JVM can say which tasks were held without asking this thread. */
  private final Map<Long, TaskRecord> held = new ConcurrentHashMap<>();
  private final WorkerLink[] workers;
  private final Thread thread;
  private long nextId = 1;
  private int source;
  private boolean stopSent;
  private int stoppedWorkers;
  private CancelAll cancelAll;

  /** What the master knows of one worker. */
  private static final class WorkerLink {
    final int rank;
    final Outbox outbox;
    int holding;
    /** Moving average of the time per task, or -1 before the first result. */
    private double averageNanos = -1;
    /** How many tasks the worker may hold; follows {@link #averageNanos}. */
    int credit = MIN_CREDIT;

    WorkerLink(int rank) {
      this.rank = rank;
      this.outbox = new Outbox(rank);
    }

    void observe(long executionNanos) {
      averageNanos = averageNanos < 0 ? executionNanos : 0.8 * averageNanos + 0.2 * executionNanos;
      double cover = CREDIT_COVER_NANOS / Math.max(averageNanos, 1.0);
      credit = (int) Math.max(MIN_CREDIT, Math.min(MAX_CREDIT, Math.ceil(cover) + 1));
    }
  }

  /** A shutdownNow() in progress: waits for every worker to give back its unstarted tasks. */
  private static final class CancelAll {
    final List<Runnable> notStarted = new ArrayList<>();
    final CompletableFuture<List<Runnable>> done;
    int awaitedWorkers;

    CancelAll(CompletableFuture<List<Runnable>> done) {
      this.done = done;
    }
  }

  MasterAgent(Transport transport, Thread thread) {
    this.transport = transport;
    this.thread = thread;
    this.workers = new WorkerLink[transport.size() - 1];
    for (int i = 0; i < workers.length; i++) {
      workers[i] = new WorkerLink(i + 1);
    }
  }

  int workerCount() {
    return workers.length;
  }

  /** Returns the record of a task some worker holds, or {@code null}; any thread. */
  TaskRecord heldTask(long id) {
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
        breakPool(lost.rank(), lost.description());
        return 1;
      }
    }
    int work = runCommands();
    work += takeSubmissions();
    for (int i = 0; i < MAX_MESSAGES_PER_PASS && transport.receive(this); i++) {
      work++;
    }
    work += dispatch();
    work += flush();
    stopWorkersWhenIdle();
    return work;
  }

  @Override
  public boolean done() {
    if (broken != null) {
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
      waiting.add(record);
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
    while (!waiting.isEmpty()) {
      WorkerLink worker = leastLoadedWithCredit();
      if (worker == null) {
        break;
      }
      TaskRecord record = waiting.poll();
      if (record.cancelled) {
        continue;
      }
      record.id = nextId++;
      record.worker = worker.rank;
      held.put(record.id, record);
      worker.holding++;
      worker.outbox.append(Wire.TASK, record.kind.flags(), record.id, 0, record.payload);
      record.payload = null;
      sent++;
    }
    return sent;
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
        && held.isEmpty() && commands.isEmpty()) {
      for (WorkerLink worker : workers) {
        worker.outbox.append(Wire.STOP, (byte) 0, 0, 0);
      }
      stopSent = true;
      flush();
    }
  }

  @Override
  public void onMessage(int sourceRank, ByteBuffer message) {
    source = sourceRank;
    Wire.readFrames(message, this);
  }

  @Override
  public void onFrame(byte type, byte flags, long id, long aux, ByteBuffer message, int length) {
    switch (type) {
      case Wire.RESULT -> {
        TaskRecord record = release(id, aux);
        if (record != null) {
          record.completion.onResult(message, length, aux);
        }
      }
      case Wire.FAILED -> {
        TaskRecord record = release(id, aux);
        if (record != null) {
          record.completion.onFailure(record.failure(message, length));
        }
      }
      case Wire.NOT_STARTED -> {
        TaskRecord record = release(id, -1);
        if (record != null) {
          if (cancelAll != null) {
            cancelAll.notStarted.add(record.original);
          }
          record.completion.onNotStarted();
        }
      }
      case Wire.CANCEL_ALL_DONE -> {
        if (cancelAll != null && --cancelAll.awaitedWorkers == 0) {
          cancelAll.done.complete(cancelAll.notStarted);
          cancelAll = null;
        }
      }
      case Wire.STOPPED -> stoppedWorkers++;
      case Wire.WORKER_EXITING -> breakPool(source,
          "worker rank " + source + " is exiting (" + new String(Wire.payload(message, length), StandardCharsets.UTF_8) + ")");
      default -> throw new IllegalStateException("unexpected frame type " + type + " from rank " + source);
    }
  }

  private TaskRecord release(long id, long executionNanos) {
    TaskRecord record = held.remove(id);
    if (record == null) {
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
   * Cancels every task not started and interrupts every running one; any thread.
   *
   * @param onMaster completes at once with the tasks that were still on the master
   * @param everywhere completes with those and the tasks the workers gave back
   */
  void cancelAll(CompletableFuture<List<Runnable>> onMaster, CompletableFuture<List<Runnable>> everywhere) {
    execute(() -> {
      takeSubmissions();
      List<Runnable> notStarted = new ArrayList<>();
      for (TaskRecord record : waiting) {
        if (!record.cancelled) {
          notStarted.add(record.original);
          record.completion.onNotStarted();
        }
      }
      waiting.clear();
      onMaster.complete(List.copyOf(notStarted));
      if (cancelAll != null) {
        everywhere.complete(notStarted);
        return;
      }
      CancelAll request = new CancelAll(everywhere);
      request.notStarted.addAll(notStarted);
      for (WorkerLink worker : workers) {
        if (worker.holding > 0) {
          worker.outbox.append(Wire.CANCEL_ALL, (byte) 1, 0, 0);
          request.awaitedWorkers++;
        }
      }
      if (request.awaitedWorkers == 0) {
        everywhere.complete(request.notStarted);
      } else {
        cancelAll = request;
      }
    });
  }

  /**
   * Describes the tasks each worker holds, for messages about a job that ends abnormally; any
   * thread (the answer may be a moment old).
   *
   * @return one entry per worker holding tasks: rank to task ids
   */
  Map<Integer, List<Long>> heldTasksByWorker() {
    Map<Integer, List<Long>> byWorker = new TreeMap<>();
    for (TaskRecord record : held.values()) {
      byWorker.computeIfAbsent(record.worker, r -> new ArrayList<>()).add(record.id);
    }
    byWorker.values().forEach(ids -> ids.sort(null));
    return byWorker;
  }

  /**
   * A worker ended, or is ending, on its own: its tasks are lost, and the others' results may
   * never come (a spawned pool's workers are ended together). Everything held fails, and the
   * pool ends: in a launched job the whole job, in an embedded pool only its workers.
   */
  private void breakPool(int workerRank, String what) {
    List<Long> tasks = heldTasksByWorker().getOrDefault(workerRank, List.of());
    String message = what + " while holding tasks " + tasks + "; the pool is broken";
    LOG.error("jmpipool: {}", message);
    broken = new BrokenPoolException(message, workerRank, null);
    shutdown = true;
    failAll(broken);
    if (cancelAll != null) {
      cancelAll.done.complete(cancelAll.notStarted);
      cancelAll = null;
    }
    transport.abort(1);
  }

  private void failSubmissions(Throwable failure) {
    TaskRecord record;
    while ((record = submissions.poll()) != null) {
      record.completion.onFailure(failure);
    }
  }

  private void failAll(Throwable failure) {
    failSubmissions(failure);
    for (TaskRecord record : waiting) {
      record.completion.onFailure(failure);
    }
    waiting.clear();
    for (TaskRecord record : held.values()) {
      record.completion.onFailure(failure);
    }
    held.clear();
  }
}
