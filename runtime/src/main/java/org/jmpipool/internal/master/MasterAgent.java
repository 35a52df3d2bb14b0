package org.jmpipool.internal.master;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
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
 * The master's communication loop for one pool: takes submitted tasks, hands them to workers as
 * its {@link DispatchPolicy} says (several per worker, batched into one message per worker and
 * pass), matches results to tasks by id, and stops the workers once the executor is shut down
 * and idle. Tasks meant for one worker (an initializer, {@code WorkerPool.applyOn}) wait in that
 * worker's own queue and go first, regardless of credit. Other threads reach it only through its
 * {@link MasterProxy}.
 *
 * <p>A pool breaks in one of two ways. A worker that ends unexpectedly takes the whole pool with
 * it (its tasks are lost, and MPI may no longer deliver): everything fails and the transport is
 * aborted. An initializer that fails leaves the workers running: everything fails, and the
 * workers are told to drop their tasks and stop, as in an orderly end.
 *
 * <p>Threads: whichever thread runs a pass of the communication loop, one at a time (the
 * communication thread, or a caller helping it).
 */
final class MasterAgent implements Agent, Wire.FrameHandler {

  private static final Logger LOG = LoggerFactory.getLogger(MasterAgent.class);
  private static final int MAX_MESSAGES_PER_PASS = 64;
  /** Stop adding tasks to a worker's batch beyond this size; the rest go in the next message. */
  private static final int MAX_BATCH_BYTES = 1 << 20;
  /** How long a pool broken by its initializer waits for its workers to stop before it counts as ended. */
  private static final long BROKEN_STOP_GRACE_NANOS = TimeUnit.SECONDS.toNanos(10);
  /** Why tasks are cancelled by a shutdown, completing "a task ...". */
  static final String SHUT_DOWN = "was cancelled before it started (the executor was shut down)";

  private final Transport transport;
  private final PoolLayout layout;
  private final MasterProxy front;
  /** Whether the pool broke with its workers still running (they are then stopped in order). */
  private boolean brokenSoftly;
  private long brokenAt;
  private final ArrayDeque<TaskRecord> waiting = new ArrayDeque<>();
  private final WorkerLink[] workers;
  private final DispatchPolicy dispatch;
  /**
   * The links with frames to send or sends in progress: a pass flushes these only, so that its
   * cost follows the traffic, not the number of workers.
   */
  private final ArrayDeque<WorkerLink> active = new ArrayDeque<>();
  /** Whether a send was still in progress after the last flush. */
  private boolean sendsInProgress;
  /** The links with tasks pinned to them waiting. */
  private final ArrayDeque<WorkerLink> withPinnedTasks = new ArrayDeque<>();
  /** The links whose batch filled up, paused in the dispatch policy until it is sent. */
  private final ArrayDeque<WorkerLink> fullBatches = new ArrayDeque<>();
  private final Inbox inbox;
  private long nextId = 1;
  private boolean stopSent;
  private int stoppedWorkers;
  /** The cancellations in progress, oldest first. */
  private final ArrayDeque<CancelAll> cancellations = new ArrayDeque<>();
  /** Numbers the cancellations sent to workers, which echo them. */
  private long cancellationsStarted;

  /** The master's link to one worker. */
  private static final class WorkerLink {
    final int index;
    final int rank;
    final Outbox outbox;
    /** Tasks for this worker only, sent before any other. */
    final ArrayDeque<TaskRecord> pinned = new ArrayDeque<>();
    /** Whether the link is among the agent's active ones. */
    boolean active;

    WorkerLink(int index, int rank, int channel) {
      this.index = index;
      this.rank = rank;
      this.outbox = new Outbox(rank, channel);
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
   * @param front the proxy through which other threads reach this agent
   */
  MasterAgent(Transport transport, int channel, MasterProxy front) {
    this.transport = transport;
    this.layout = front.layout();
    this.front = front;
    this.inbox = new Inbox(transport, channel, this);
    this.workers = new WorkerLink[layout.workers()];
    for (int i = 0; i < workers.length; i++) {
      workers[i] = new WorkerLink(i, layout.rankOf(i), channel);
    }
    this.dispatch = new DispatchPolicy(layout.workers(), layout.threadsPerWorker());
  }

  @Override
  public int doWork() {
    if (front.broken == null && stoppedWorkers < workers.length) {
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
    if (front.broken != null && (!brokenSoftly || System.nanoTime() - brokenAt > BROKEN_STOP_GRACE_NANOS)) {
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
    if (sendsInProgress) {
      return IdleStrategy.Expecting.SEND_PROGRESS;
    }
    return front.held.isEmpty() ? IdleStrategy.Expecting.LOCAL_EVENT : IdleStrategy.Expecting.MESSAGE;
  }

  @Override
  public void onFatal(Throwable failure) {
    failAll(failure);
  }

  private int runCommands() {
    int count = 0;
    Consumer<MasterAgent> command;
    while ((command = front.commands.poll()) != null) {
      command.accept(this);
      count++;
    }
    return count;
  }

  private int takeSubmissions() {
    int count = 0;
    TaskRecord record;
    while ((record = front.submissions.poll()) != null) {
      if (record.target >= 0) {
        WorkerLink worker = workers[record.target];
        if (worker.pinned.isEmpty()) {
          withPinnedTasks.add(worker);
        }
        worker.pinned.add(record);
      } else {
        waiting.add(record);
      }
      count++;
    }
    return count;
  }

  /** Sends the pinned tasks, then hands waiting ones out as the dispatch policy says. */
  private int dispatch() {
    int sent = 0;
    WorkerLink pinnedTo;
    while ((pinnedTo = withPinnedTasks.poll()) != null) {
      TaskRecord record;
      while ((record = pinnedTo.pinned.poll()) != null) {
        sent += send(record, pinnedTo.index);
      }
    }
    while (!waiting.isEmpty()) {
      int index = dispatch.pick();
      if (index < 0) {
        break;
      }
      if (workers[index].outbox.pendingBytes() > MAX_BATCH_BYTES) {
        dispatch.pause(index);
        fullBatches.add(workers[index]);
        continue;
      }
      // The chunks of maps carry no expectation of which worker runs which: a worker takes its equal
      // share of those waiting at once, in one message while its batch has room, so that the cost
      // per chunk does not grow with the workers. Other tasks go one at a time to the least loaded
      // (one long task per worker, say).
      int take = waiting.peek().kind == TaskKind.CHUNK ? dispatch.share(index, waiting.size()) : 1;
      do {
        sent += send(waiting.poll(), index);
      } while (--take > 0 && !waiting.isEmpty() && waiting.peek().kind == TaskKind.CHUNK
          && workers[index].outbox.pendingBytes() <= MAX_BATCH_BYTES);
    }
    return sent;
  }

  private int send(TaskRecord record, int index) {
    if (record.cancelled) {
      record.dropPayload();
      return 0;
    }
    WorkerLink worker = workers[index];
    record.id = nextId++;
    record.workerIndex = index;
    front.held.put(record.id, record);
    dispatch.sent(index);
    outbox(worker).append(Wire.TASK, record.kind.flags(), record.id, record.randomBase, record.payload);
    record.payload = null;
    return 1;
  }

  /** The outbox of a link, for appending to it: the link counts as active until all is sent. */
  private Outbox outbox(WorkerLink worker) {
    if (!worker.active) {
      worker.active = true;
      active.add(worker);
    }
    return worker.outbox;
  }

  private int flush() {
    int work = 0;
    boolean inProgress = false;
    for (int remaining = active.size(); remaining > 0; remaining--) {
      WorkerLink worker = active.poll();
      work += worker.outbox.reapCompleted();
      if (worker.outbox.flush(transport)) {
        work++;
      }
      if (worker.outbox.sending()) {
        inProgress = true;
        active.add(worker);
      } else {
        worker.active = false;
      }
    }
    sendsInProgress = inProgress;
    WorkerLink emptied;
    while ((emptied = fullBatches.poll()) != null) {
      dispatch.resume(emptied.index);
    }
    return work;
  }

  private void stopWorkersWhenIdle() {
    if (!stopSent && front.shutdown && front.submissions.isEmpty() && waiting.isEmpty()
        && front.held.isEmpty() && front.commands.isEmpty() && withPinnedTasks.isEmpty()) {
      sendStop();
    }
  }

  private void sendStop() {
    for (WorkerLink worker : workers) {
      outbox(worker).append(Wire.STOP, (byte) 0, 0, 0);
    }
    stopSent = true;
    flush();
  }

  /** Stores an object on every worker: sent to a few, which forward it along the broadcast tree. */
  void storeEverywhere(long id, Payload encoded) {
    for (int target : layout.broadcastTargets(0)) {
      outbox(workers[target]).append(Wire.STORE, (byte) 1, id, 0, encoded.share());
    }
    encoded.release();
  }

  /** Stores an object on one worker. */
  void storeOn(int workerIndex, long id, Payload encoded) {
    outbox(workers[workerIndex]).append(Wire.STORE, (byte) 0, id, 0, encoded);
  }

  /** Asks the workers of a new pool to serve it on its own channel. */
  void openPool(int poolChannel, PoolLayout poolLayout, Payload encodedLayout) {
    for (int rank : poolLayout.members()) {
      outbox(workers[layout.indexOf(rank)]).append(Wire.OPEN, (byte) 0, poolChannel, 0, encodedLayout);
    }
  }

  /** Drops an object on every worker, unless they are gone or going. */
  void free(long id) {
    if (front.broken == null && !stopSent) {
      for (WorkerLink worker : workers) {
        outbox(worker).append(Wire.FREE, (byte) 0, id, 0);
      }
    }
  }

  @Override
  public void onFrame(int source, byte type, byte flags, long id, long aux, Payload payload) {
    switch (type) {
      case Wire.RESULT -> {
        TaskRecord record = release(source, id, aux);
        if (record != null) {
          front.tasksRun++;
          record.completion.onResult(payload, aux);
        } else {
          payload.release();
        }
      }
      case Wire.FAILED -> {
        TaskRecord record = release(source, id, aux);
        if (record != null && record.kind == TaskKind.INIT) {
          // At once, on this thread: the tasks queued behind it on that worker come back unstarted
          // in this very message, and must fail as the broken pool's.
          initializerFailed(source, record.handedOver != null ? record.handedOver.failure() : ThrowableCodec.decode(payload));
          payload.release();
        } else if (record != null) {
          front.tasksRun++;
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
      case Wire.SIGNALLED -> front.workerSignals.signalled(source,
          new String(payload.toArray(), StandardCharsets.UTF_8), (int) id);
      case Wire.WORKER_EXITING -> breakPool(source,
          "worker rank " + source + " is exiting (" + new String(payload.toArray(), StandardCharsets.UTF_8) + ")",
          null, false);
      default -> throw new IllegalStateException("unexpected frame type " + type + " from rank " + source);
    }
  }

  private TaskRecord release(int source, long id, long executionNanos) {
    TaskRecord record = front.held.remove(id);
    if (record == null) {
      if (front.broken != null) {
        // Failed already when the pool broke; the worker answers as it drops its tasks.
        return null;
      }
      throw new IllegalStateException("rank " + source + " answered task " + id + ", which it does not hold");
    }
    dispatch.answered(record.workerIndex, executionNanos);
    return record;
  }

  /** Cancels a task on behalf of its future. */
  void cancel(TaskRecord record, boolean interrupt) {
    if (record.workerIndex < 0) {
      record.cancelled = true;
    } else if (front.held.containsKey(record.id)) {
      outbox(workers[record.workerIndex]).append(Wire.CANCEL, (byte) (interrupt ? 1 : 0), record.id, 0);
    }
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
    for (int index = 0; index < workers.length; index++) {
      if (dispatch.holding(index) > 0) {
        outbox(workers[index]).append(Wire.CANCEL_ALL, (byte) (interrupt ? 1 : 0), 0, request.number);
        request.awaited.add(workers[index].rank);
      }
    }
    if (request.awaited.isEmpty()) {
      request.complete();
    } else {
      cancellations.add(request);
    }
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
   * The pool's initializer failed on a worker. The pool breaks, softly: the workers are alive, so
   * they are told to drop their tasks and stop.
   */
  private void initializerFailed(int workerRank, Throwable failure) {
    breakPool(workerRank, "the initializer failed on worker rank " + workerRank + ": "
        + ThrowableCodec.safeToString(failure), failure, true);
  }

  /** Takes the tasks not yet sent to any worker out of the queues; they will not be sent. */
  private List<TaskRecord> unsentTasks() {
    List<TaskRecord> unsent = new ArrayList<>(waiting);
    waiting.clear();
    for (WorkerLink worker : withPinnedTasks) {
      unsent.addAll(worker.pinned);
      worker.pinned.clear();
    }
    withPinnedTasks.clear();
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
    if (front.broken != null) {
      return;
    }
    String message = soft ? what + "; the pool is broken"
        : what + " while holding tasks " + front.heldTasksByWorker().getOrDefault(workerRank, List.of())
            + "; the pool is broken";
    LOG.error("jmpipool: {}", message);
    front.broken = new BrokenPoolException(message, workerRank, cause);
    brokenSoftly = soft;
    brokenAt = System.nanoTime();
    front.shutdown = true;
    failAll(front.broken);
    cancellations.forEach(CancelAll::complete);
    cancellations.clear();
    if (!soft) {
      transport.abort(1);
    } else if (!stopSent) {
      // The workers drop what they hold; what they answer was failed already, and is ignored.
      long number = ++cancellationsStarted;
      for (WorkerLink worker : workers) {
        outbox(worker).append(Wire.CANCEL_ALL, (byte) 1, 0, number);
      }
      sendStop();
    }
  }

  private void failAll(Throwable failure) {
    front.failSubmissions(failure);
    for (TaskRecord record : unsentTasks()) {
      record.completion.onFailure(failure);
    }
    List<TaskRecord> wasHeld = new ArrayList<>(front.held.values());
    front.held.clear();
    dispatch.forgetHeld();
    for (TaskRecord record : wasHeld) {
      record.completion.onFailure(failure);
    }
  }
}
