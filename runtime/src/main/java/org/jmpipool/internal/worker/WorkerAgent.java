package org.jmpipool.internal.worker;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.LongFunction;
import org.jmpipool.internal.loop.Agent;
import org.jmpipool.internal.loop.CommunicationThread;
import org.jmpipool.internal.loop.IdleStrategy;
import org.jmpipool.internal.transport.Transport;
import org.jmpipool.internal.wire.Codec;
import org.jmpipool.internal.wire.HandedOver;
import org.jmpipool.internal.wire.Inbox;
import org.jmpipool.internal.wire.Outbox;
import org.jmpipool.internal.wire.Payload;
import org.jmpipool.internal.wire.PoolLayout;
import org.jmpipool.internal.wire.TaskKind;
import org.jmpipool.internal.wire.Wire;

/**
 * A worker's communication loop for one pool: receives task batches from the master, queues the
 * tasks for the task threads, handles cancellation, keeps stored objects, relays the frames of
 * parallel-task groups, and sends results back, batching whatever is ready.
 *
 * <p>When the pool has an initializer, the master sends it first; the other tasks wait until it
 * has run, and are given back unstarted if it failed.
 *
 * <p>Threads: whichever thread runs a pass of its communication loop, one at a time (the
 * communication thread, or a task thread helping it); {@link #reportSignal} and
 * {@link #announceExit} come from the JVM's signal and exit handlers; the task threads hand back
 * finished tasks through a queue.
 */
public final class WorkerAgent implements Agent, Wire.FrameHandler {

  private static final int MASTER = 0;
  private static final int MAX_MESSAGES_PER_PASS = 16;
  private static final int MAX_HELD_RESULTS = 64;
  private static final long MAX_HOLD_NANOS = 50_000;

  /** Opens the worker's side of a new pool on the job's ranks (an {@link Wire#OPEN} frame). */
  @FunctionalInterface
  public interface PoolOpener {
    void open(int channel, PoolLayout layout);
  }

  private enum Initializer { NONE, RUNNING, FAILED }

  /** A signal this process received. */
  private record ReceivedSignal(String name, int number) {
  }

  /** A frame a task thread wants sent to another worker. */
  private record PeerFrame(int workerIndex, byte kind, long generation, Payload payload) {
  }

  private final Transport transport;
  private final int channel;
  private final PoolLayout layout;
  private final TaskRunner runner;
  private final WorkerContext context;
  /** In a local pool that does not serialize: finds a task handed over as an object, by id. */
  private final LongFunction<HandedOver> handedOverTasks;
  private final PoolOpener poolOpener;
  private final Outbox toMaster;
  private final Inbox inbox;
  private final Map<Integer, Outbox> toPeers = new HashMap<>();
  private final Map<Long, WorkerTask> tasks = new HashMap<>();
  private final List<WorkerTask> waitingForInitializer = new ArrayList<>();
  private final ConcurrentLinkedQueue<WorkerTask> finished = new ConcurrentLinkedQueue<>();
  private final ConcurrentLinkedQueue<PeerFrame> peerFrames = new ConcurrentLinkedQueue<>();
  private final CommunicationThread thread;
  private final CountDownLatch exitAnnounced = new CountDownLatch(1);
  private Initializer initializer = Initializer.NONE;
  private volatile String exitReason;
  private boolean exitSent;
  /** A signal to report to the master, set by the signal's handler. */
  private volatile ReceivedSignal signalReport;
  private boolean signalReported;
  private boolean stopRequested;
  private boolean stopAnswered;
  private int heldResults;
  private long firstHeldNanos;

  /**
   * Creates the agent and starts its task threads.
   *
   * @param channel the pool's channel
   * @param layout the pool's workers, among them this rank
   * @param handedOverTasks in a local pool that does not serialize, finds a task handed over as an
   *     object by its id ({@code null} once the master dropped it); {@code null} when tasks travel
   *     as bytes
   * @param poolOpener on the job's channel 0, serves further pools; {@code null} elsewhere
   */
  public WorkerAgent(Transport transport, int channel, PoolLayout layout, Codec codec, CommunicationThread thread,
      LongFunction<HandedOver> handedOverTasks, PoolOpener poolOpener) {
    this.transport = transport;
    this.channel = channel;
    this.layout = layout;
    this.thread = thread;
    this.handedOverTasks = handedOverTasks;
    this.poolOpener = poolOpener;
    this.toMaster = new Outbox(MASTER, channel);
    this.inbox = new Inbox(transport, channel, this);
    this.context = new WorkerContext(transport.rank(), transport.size(), transport.host(), layout, codec,
        (index, kind, generation, payload) -> {
          peerFrames.add(new PeerFrame(index, kind, generation, payload));
          thread.wake();
        });
    String name = "jmpipool-task-" + transport.rank() + (channel == 0 ? "" : "-pool" + channel);
    this.runner = new TaskRunner(codec, context, this::taskFinished, thread, name, layout.threadsPerWorker());
    runner.start();
  }

  /**
   * A task thread's task ended: the thread sends its result itself, in a pass of the loop, unless
   * it has more tasks to run (the communication thread then batches their results).
   */
  private void taskFinished(WorkerTask task) {
    finished.add(task);
    if (runner.hasQueued() || !thread.help()) {
      thread.wake();
    }
  }

  @Override
  public int doWork() {
    int work = 0;
    for (int i = 0; i < MAX_MESSAGES_PER_PASS && inbox.receive(); i++) {
      work++;
    }
    WorkerTask task;
    while ((task = finished.poll()) != null) {
      tasks.remove(task.id);
      toMaster.append(task.resultType, (byte) 0, task.id, task.executionNanos, task.result);
      if (task.kind == TaskKind.INIT) {
        initializerFinished(task.resultType == Wire.RESULT);
      }
      if (heldResults++ == 0) {
        firstHeldNanos = System.nanoTime();
      }
      work++;
    }
    PeerFrame frame;
    while ((frame = peerFrames.poll()) != null) {
      toPeer(frame.workerIndex()).append(Wire.GROUP, frame.kind(), 0, frame.generation(), frame.payload());
      work++;
    }
    if (stopRequested && !stopAnswered && tasks.isEmpty()) {
      toMaster.append(Wire.STOPPED, (byte) 0, 0, 0);
      stopAnswered = true;
      runner.shutdown();
    }
    ReceivedSignal signal = signalReport;
    if (signal != null && !signalReported) {
      toMaster.append(Wire.SIGNALLED, (byte) 0, signal.number(), 0,
          Payload.of(signal.name().getBytes(StandardCharsets.UTF_8)));
      signalReported = true;
      work++;
    }
    String reason = exitReason;
    if (reason != null && !exitSent) {
      toMaster.append(Wire.WORKER_EXITING, (byte) 0, 0, 0, Payload.of(reason.getBytes(StandardCharsets.UTF_8)));
      exitSent = true;
    }
    work += toMaster.reapCompleted();
    if (shouldSendResults() && toMaster.flush(transport)) {
      heldResults = 0;
      work++;
    }
    for (Outbox peer : toPeers.values()) {
      work += peer.reapCompleted();
      if (peer.flush(transport)) {
        work++;
      }
    }
    if (exitSent && !toMaster.sending()) {
      exitAnnounced.countDown();
    }
    return work;
  }

  private Outbox toPeer(int workerIndex) {
    return toPeers.computeIfAbsent(layout.rankOf(workerIndex), rank -> new Outbox(rank, channel));
  }

  private void initializerFinished(boolean succeeded) {
    initializer = succeeded ? Initializer.NONE : Initializer.FAILED;
    for (WorkerTask waiting : waitingForInitializer) {
      if (succeeded) {
        runner.queue(waiting);
      } else {
        cancel(waiting, false);
      }
    }
    waitingForInitializer.clear();
  }

  /**
   * Results of tasks that finish in quick succession travel together: they are held while the
   * task threads have more work queued, up to {@link #MAX_HELD_RESULTS} results or
   * {@link #MAX_HOLD_NANOS}; the last result before the task threads idle goes at once.
   */
  private boolean shouldSendResults() {
    return heldResults == 0 || tasks.size() < layout.threadsPerWorker() || stopRequested || exitSent
        || heldResults >= MAX_HELD_RESULTS || System.nanoTime() - firstHeldNanos >= MAX_HOLD_NANOS;
  }

  @Override
  public boolean done() {
    if (!stopAnswered || toMaster.sending() || toMaster.pendingBytes() > 0 || !peerFrames.isEmpty()) {
      return false;
    }
    for (Outbox peer : toPeers.values()) {
      peer.reapCompleted();
      if (peer.sending() || peer.pendingBytes() > 0) {
        return false;
      }
    }
    return true;
  }

  /**
   * With tasks queued behind the running ones, only the task threads' results (which unpark this
   * thread) are urgent; with fewer, the next task from the master is, or a task thread will wait
   * for it.
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
    return tasks.size() > layout.threadsPerWorker() || transport.wakesReceiver() ? IdleStrategy.Expecting.LOCAL_EVENT
        : IdleStrategy.Expecting.MESSAGE;
  }

  @Override
  public void onFatal(Throwable failure) {
    runner.shutdown();
  }

  /** Returns whether the master has told this worker to stop. */
  public boolean stopping() {
    return stopRequested;
  }

  /**
   * Tells the master that this JVM is exiting, and waits a little for the message to leave.
   * Called by a shutdown hook.
   */
  public void announceExit(String reason, long timeoutMillis) throws InterruptedException {
    exitReason = reason;
    thread.wake();
    exitAnnounced.await(timeoutMillis, TimeUnit.MILLISECONDS);
  }

  /**
   * Tells the master that this process received a signal that ends jobs, so that it ends the
   * job in order even when the signal reached this worker alone; any thread.
   *
   * @param name the signal's name, such as {@code TERM}
   * @param number its number
   */
  public void reportSignal(String name, int number) {
    signalReport = new ReceivedSignal(name, number);
    thread.wake();
  }

  @Override
  public void onFrame(int source, byte type, byte flags, long id, long aux, Payload payload) {
    switch (type) {
      case Wire.TASK -> accept(new WorkerTask(id, TaskKind.of(flags), aux, payload.retain()));
      case Wire.CANCEL -> {
        WorkerTask task = tasks.get(id);
        if (task != null) {
          cancel(task, flags != 0);
        }
      }
      case Wire.CANCEL_ALL -> {
        // Queued tasks first: an interrupted task ends at once, and its thread would start the
        // next queued one before it could be cancelled.
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
      case Wire.OPEN -> {
        if (poolOpener == null) {
          throw new IllegalStateException("pool " + channel + " got a request to open pool " + id);
        }
        poolOpener.open((int) id, PoolLayout.decode(payload.toArray()));
      }
      case Wire.STORE -> {
        Payload stored = payload.retain();
        if (flags != 0) {
          for (int target : layout.broadcastTargets(context.workerIndex + 1)) {
            toPeer(target).append(Wire.STORE, flags, id, 0, stored.share());
          }
        }
        context.store.put(id, stored);
      }
      case Wire.FREE -> context.store.free(id);
      case Wire.GROUP -> context.group.deliver(layout.indexOf(source), flags, aux, payload.retain());
      default -> throw new IllegalStateException("unexpected frame type " + type + " on pool channel " + channel);
    }
  }

  private void accept(WorkerTask task) {
    tasks.put(task.id, task);
    if (handedOverTasks != null) {
      task.handedOver = handedOverTasks.apply(task.id);
      if (task.handedOver == null) {
        // The master let go of it meanwhile (its pool broke): nothing to run.
        cancel(task, false);
        return;
      }
    }
    if (task.kind == TaskKind.INIT) {
      initializer = Initializer.RUNNING;
      runner.queue(task);
    } else if (initializer == Initializer.RUNNING) {
      waitingForInitializer.add(task);
    } else if (initializer == Initializer.FAILED) {
      cancel(task, false);
    } else {
      runner.queue(task);
    }
  }

  private void cancel(WorkerTask task, boolean interrupt) {
    if (task.cancelBeforeStart()) {
      task.payload.release();
      tasks.remove(task.id);
      toMaster.append(Wire.NOT_STARTED, (byte) 0, task.id, -1);
    } else if (interrupt) {
      runner.interruptIfRunning(task);
    }
  }
}
