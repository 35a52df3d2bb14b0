package org.jmpipool.internal;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongFunction;
import org.jmpipool.internal.transport.Transport;

/**
 * A worker's communication loop: receives task batches from the master, queues the tasks for
 * the task thread, handles cancellation, and sends results back, batching whatever is ready.
 */
final class WorkerAgent implements Agent, Transport.MessageHandler, Wire.FrameHandler {

  private static final int MASTER = 0;
  private static final int MAX_MESSAGES_PER_PASS = 16;
  private static final int MAX_HELD_RESULTS = 64;
  private static final long MAX_HOLD_NANOS = 50_000;

  private final Transport transport;
  private final TaskRunner runner;
  /** In a local pool that does not serialize: finds the master's record of a task by id. */
  private final LongFunction<TaskRecord> directTasks;
  private final Outbox toMaster = new Outbox(MASTER);
  private final Map<Long, WorkerTask> tasks = new HashMap<>();
  private final ConcurrentLinkedQueue<WorkerTask> finished = new ConcurrentLinkedQueue<>();
  private final Thread thread;
  private final CountDownLatch exitAnnounced = new CountDownLatch(1);
  private volatile String exitReason;
  private boolean exitSent;
  private boolean stopRequested;
  private boolean stopAnswered;
  private int heldResults;
  private long firstHeldNanos;

  /**
   * Creates the agent and starts its task thread.
   *
   * @param directTasks in a local pool that does not serialize, finds the master's record of a
   *     task; {@code null} when tasks travel as bytes
   */
  WorkerAgent(Transport transport, Codec codec, Thread thread, LongFunction<TaskRecord> directTasks) {
    this.transport = transport;
    this.thread = thread;
    this.directTasks = directTasks;
    RunningTask.WorkerContext context =
        new RunningTask.WorkerContext(transport.rank(), transport.size(), transport.host());
    this.runner = new TaskRunner(codec, context, this::taskFinished, "jmpipool-task-" + transport.rank());
    runner.start();
  }

  private void taskFinished(WorkerTask task) {
    finished.add(task);
    LockSupport.unpark(thread);
  }

  @Override
  public int doWork() {
    int work = 0;
    for (int i = 0; i < MAX_MESSAGES_PER_PASS && transport.receive(this); i++) {
      work++;
    }
    WorkerTask task;
    while ((task = finished.poll()) != null) {
      tasks.remove(task.id);
      toMaster.append(task.resultType, (byte) 0, task.id, task.executionNanos, task.result);
      if (heldResults++ == 0) {
        firstHeldNanos = System.nanoTime();
      }
      work++;
    }
    if (stopRequested && !stopAnswered && tasks.isEmpty()) {
      toMaster.append(Wire.STOPPED, (byte) 0, 0, 0);
      stopAnswered = true;
      runner.shutdown();
    }
    String reason = exitReason;
    if (reason != null && !exitSent) {
      toMaster.append(Wire.WORKER_EXITING, (byte) 0, 0, 0, ByteBuffer.wrap(reason.getBytes(StandardCharsets.UTF_8)));
      exitSent = true;
    }
    work += toMaster.reapCompleted();
    if (shouldSendResults() && toMaster.flush(transport)) {
      heldResults = 0;
      work++;
    }
    if (exitSent && !toMaster.sending()) {
      exitAnnounced.countDown();
    }
    return work;
  }

  /**
   * Results of tasks that finish in quick succession travel together: they are held while the
   * task thread has more work queued, up to {@link #MAX_HELD_RESULTS} results or
   * {@link #MAX_HOLD_NANOS}; the last result before the task thread idles goes at once.
   */
  private boolean shouldSendResults() {
    return heldResults == 0 || tasks.isEmpty() || stopRequested || exitSent
        || heldResults >= MAX_HELD_RESULTS || System.nanoTime() - firstHeldNanos >= MAX_HOLD_NANOS;
  }

  @Override
  public boolean done() {
    return stopAnswered && !toMaster.sending() && toMaster.pendingBytes() == 0;
  }

  /**
   * With a task queued behind the running one, only the task thread's results (which unpark this
   * thread) are urgent; with fewer, the next task from the master is, or the task thread will
   * wait for it.
   */
  @Override
  public IdleStrategy.Expecting expecting() {
    if (toMaster.sending()) {
      return IdleStrategy.Expecting.SEND_PROGRESS;
    }
    if (heldResults > 0) {
      return IdleStrategy.Expecting.MESSAGE;
    }
    // Where arriving messages wake this thread (local pools), the next task needs no polling either.
    return tasks.size() >= 2 || transport.wakesReceiver() ? IdleStrategy.Expecting.LOCAL_EVENT
        : IdleStrategy.Expecting.MESSAGE;
  }

  @Override
  public void onFatal(Throwable failure) {
    runner.shutdown();
  }

  /** Returns whether the master has told this worker to stop. */
  boolean stopping() {
    return stopRequested;
  }

  /**
   * Tells the master that this JVM is exiting, and waits a little for the message to leave.
   * Called by a shutdown hook.
   */
  void announceExit(String reason, long timeoutMillis) throws InterruptedException {
    exitReason = reason;
    LockSupport.unpark(thread);
    exitAnnounced.await(timeoutMillis, TimeUnit.MILLISECONDS);
  }

  @Override
  public void onMessage(int source, ByteBuffer message) {
    Wire.readFrames(message, this);
  }

  @Override
  public void onFrame(byte type, byte flags, long id, long aux, ByteBuffer message, int length) {
    switch (type) {
      case Wire.TASK -> {
        WorkerTask task = new WorkerTask(id, TaskKind.of(flags), Wire.payload(message, length));
        if (directTasks != null) {
          task.direct = directTasks.apply(id);
        }
        tasks.put(id, task);
        runner.queue(task);
      }
      case Wire.CANCEL -> {
        WorkerTask task = tasks.get(id);
        if (task != null) {
          cancel(task, flags != 0);
        }
      }
      case Wire.CANCEL_ALL -> {
        // Queued tasks first: an interrupted task ends at once, and the task thread would start
        // the next queued one before it could be cancelled.
        WorkerTask[] held = tasks.values().toArray(new WorkerTask[0]);
        for (WorkerTask task : held) {
          cancel(task, false);
        }
        if (flags != 0) {
          for (WorkerTask task : held) {
            runner.interruptIfRunning(task);
          }
        }
        toMaster.append(Wire.CANCEL_ALL_DONE, (byte) 0, 0, aux);
      }
      case Wire.STOP -> stopRequested = true;
      default -> throw new IllegalStateException("unexpected frame type " + type + " from the master");
    }
  }

  private void cancel(WorkerTask task, boolean interrupt) {
    if (task.cancelBeforeStart()) {
      tasks.remove(task.id);
      toMaster.append(Wire.NOT_STARTED, (byte) 0, task.id, -1);
    } else if (interrupt) {
      runner.interruptIfRunning(task);
    }
  }
}
