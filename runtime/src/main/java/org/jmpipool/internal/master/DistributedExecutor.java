package org.jmpipool.internal.master;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.stream.Stream;
import org.jmpipool.BrokenPoolException;
import org.jmpipool.MapOptions;
import org.jmpipool.MapResults;
import org.jmpipool.MpiPoolExecutor;
import org.jmpipool.SerializableCallable;
import org.jmpipool.SerializableFunction;
import org.jmpipool.SerializableRunnable;
import org.jmpipool.TaskSerializationException;
import org.jmpipool.internal.loop.CommunicationThread;
import org.jmpipool.internal.transport.Transport;
import org.jmpipool.internal.wire.Codec;
import org.jmpipool.internal.wire.HandedOver;
import org.jmpipool.internal.wire.Payload;
import org.jmpipool.internal.wire.PoolLayout;
import org.jmpipool.internal.wire.TaskKind;
import org.jmpipool.internal.wire.TaskSeeds;
import org.jmpipool.internal.wire.ThrowableCodec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link MpiPoolExecutor} of a pool's master, whatever its workers are (ranks of a launched
 * job, spawned processes, threads of this JVM): encodes tasks on the calling thread and hands
 * them, through the pool's {@link MasterProxy}, to its {@link MasterAgent} on the communication
 * thread. In a local pool that does not serialize, tasks are handed over as they are.
 *
 * <p>Threads: any, but {@link #close()}, {@link #awaitTermination}, {@link #shutdownNow()},
 * {@code invokeAll} and {@code invokeAny} refuse the communication thread (they would wait for
 * it), and close and awaitTermination refuse a stage of one of the pool's results.
 */
public final class DistributedExecutor implements MpiPoolExecutor {

  private static final Logger LOG = LoggerFactory.getLogger(DistributedExecutor.class);
  /** How long shutdownNow() waits for the workers to give back their unstarted tasks. */
  private static final long CANCEL_ALL_WAIT_MILLIS = 2_000;
  /**
   * What an initializer's outcome does: its failure breaks the pool, which the agent does itself
   * (before the tasks queued behind it come back); a success carries nothing.
   */
  private static final TaskRecord.Completion INITIALIZED = new TaskRecord.Completion() {
    @Override
    public void onResult(Payload result, long executionNanos) {
      result.release();
    }

    @Override
    public void onRemoteFailure(Payload encoded) {
      encoded.release();
    }

    @Override
    public void onFailure(Throwable failure) {
    }

    @Override
    public void onNotStarted(String reason) {
    }
  };

  private final MasterProxy front;
  private final CompletableFuture<Void> ended;
  private final Codec codec;
  /** Whether tasks are handed to workers as objects (local pools without serialization). */
  private final boolean handsOver;
  /** Held shared to submit, exclusively to shut down: no task slips in after shutdown. */
  private final ReentrantReadWriteLock submitLock = new ReentrantReadWriteLock();
  /** Who decodes the outcomes, and when the pool has terminated. */
  private final PoolOutcomes outcomes;
  /** Seeds the random generators of tasks that are not part of a map with their own seed. */
  private final long seed;
  /** Counts submitted tasks: a task's index seeds its random generator. */
  private final AtomicLong submissions = new AtomicLong();
  /** The stored objects of the WorkerPool built on this executor, or {@code null}. */
  private volatile StoredObjects stored;

  private DistributedExecutor(MasterProxy front, Codec codec, boolean handsOver, CompletableFuture<Void> ended,
      long seed) {
    this.front = front;
    this.ended = ended;
    this.codec = codec;
    this.handsOver = handsOver;
    this.seed = seed;
    this.outcomes = new PoolOutcomes(ended);
  }

  /**
   * Starts the master's side of a pool whose workers are ranks 1 to {@code workers} of a
   * transport: its agent on the communication thread, and the executor in front of it; the
   * pool's initializer, if any, goes to every worker first. The one way every kind of pool (a
   * launched job's, a further pool on its ranks, a spawned or local pool) gets its master.
   *
   * @param thread the communication thread that runs the agent, which the transport belongs to
   * @param channel the pool's channel on the transport
   * @param workers how many workers the pool has
   * @param codec encodes the pool's tasks and decodes their results
   * @param options threads per worker, initializer, seed
   * @param handsOver whether tasks are handed to the workers as objects (a local pool that does
   *     not serialize)
   * @return the pool's executor
   */
  public static DistributedExecutor start(CommunicationThread thread, Transport transport, int channel, int workers,
      Codec codec, PoolOptions options, boolean handsOver) {
    MasterProxy front = new MasterProxy(PoolLayout.allRanks(workers + 1, options.threadsPerWorker()), thread);
    CompletableFuture<Void> ended = thread.run(new MasterAgent(transport, channel, front));
    DistributedExecutor executor = new DistributedExecutor(front, codec, handsOver, ended, options.seed());
    if (options.initializer() != null) {
      executor.initialize(options.initializer());
    }
    return executor;
  }

  /** Returns the front of the pool's agent. */
  public MasterProxy front() {
    return front;
  }

  /** Completes when the pool has ended: its workers stopped and, for a pool of its own, its transport closed. */
  public CompletableFuture<Void> ended() {
    return ended;
  }

  /** Returns who decodes the pool's outcomes. */
  PoolOutcomes outcomes() {
    return outcomes;
  }

  /** Returns the codec of the pool's tasks and results. */
  public Codec codec() {
    return codec;
  }

  long seed() {
    return seed;
  }

  /** Makes RemoteRefs of these stored objects valid in this executor's tasks. */
  void useStoredObjects(StoredObjects objects) {
    this.stored = objects;
  }

  /**
   * Sends the pool's initializer to every worker, ahead of any task; a failure breaks the pool.
   *
   * @param initializer what to run once on each worker; its value becomes the worker's state
   */
  private void initialize(Callable<?> initializer) {
    for (int index = 0; index < front.workerCount(); index++) {
      Payload payload = handsOver ? Payload.EMPTY : encodeTask(TaskKind.INIT, initializer, null).payload();
      TaskRecord record = new TaskRecord(TaskKind.INIT, payload, INITIALIZED, asRunnable(initializer));
      record.target = index;
      if (handsOver) {
        record.handedOver = HandedOver.task(initializer);
      }
      enqueue(record);
    }
  }

  @Override
  public int workers() {
    return front.broken() != null ? 0 : front.workerCount();
  }

  /** Returns whether tasks are handed to the workers as objects, without serialization. */
  boolean handsOverTasks() {
    return handsOver;
  }

  @Override
  public <T> CompletableFuture<T> submit(Callable<T> task) {
    Objects.requireNonNull(task, "task");
    return submitEncoded(TaskKind.CALL, task, null, this::decodeValue, task::call, -1);
  }

  /**
   * Submits a task that only the given worker may run.
   *
   * @param workerIndex the worker, from 0
   */
  <T> CompletableFuture<T> submitTo(int workerIndex, Callable<T> task) {
    Objects.requireNonNull(task, "task");
    Objects.checkIndex(workerIndex, front.workerCount());
    return submitEncoded(TaskKind.CALL, task, null, this::decodeValue, task::call, workerIndex);
  }

  @Override
  public <T> CompletableFuture<T> submit(SerializableCallable<T> task) {
    return submit((Callable<T>) task);
  }

  @Override
  public CompletableFuture<?> submit(Runnable task) {
    return submit(task, null);
  }

  @Override
  public CompletableFuture<?> submit(SerializableRunnable task) {
    return submit((Runnable) task, null);
  }

  @Override
  public <T> CompletableFuture<T> submit(Runnable task, T result) {
    Objects.requireNonNull(task, "task");
    return submitEncoded(TaskKind.RUN, task, null, (record, payload) -> result, () -> {
      task.run();
      return null;
    }, -1);
  }

  @Override
  public <T, R> CompletableFuture<R> submit(SerializableFunction<? super T, ? extends R> function, T argument) {
    Objects.requireNonNull(function, "function");
    return submitEncoded(TaskKind.APPLY, function, argument, this::decodeValue, () -> function.apply(argument), -1);
  }

  /**
   * Runs a task on a worker, refusing at once what cannot be shipped there. The stages that
   * {@link CompletableFuture}'s {@code *Async} methods hand over run on a worker too, and complete
   * their future on the master ({@link CompletionStageTask}). A failure of a plain task is logged,
   * as a thread pool reports an uncaught exception.
   */
  @Override
  public void execute(Runnable task) {
    Objects.requireNonNull(task, "task");
    if (!handsOver && CompletionStageTask.isStage(task)) {
      executeStage(task);
      return;
    }
    if (!(task instanceof Serializable)) {
      throw new RejectedExecutionException("jmpipool runs tasks in other processes, so execute() needs a"
          + " Serializable task; " + task.getClass().getName() + " is not: use pool.submit(task), whose overloads"
          + " take serializable lambdas and return a CompletableFuture");
    }
    CompletableFuture<?> future = submit(task);
    rejectIfUnshippable(future, "the task " + task.getClass().getName());
    future.whenComplete((ignored, failure) -> {
      if (failure != null && !(failure instanceof CancellationException)) {
        logQuietly("a task passed to execute() failed", failure);
      }
    });
  }

  private void executeStage(Runnable stage) {
    CompletionStageTask task;
    try {
      task = CompletionStageTask.takeApart(stage);
    } catch (IllegalArgumentException e) {
      throw new RejectedExecutionException(e.getMessage(), e);
    }
    if (!task.completesAFuture()) {
      return;
    }
    CompletableFuture<CompletionStageTask.Outcome> outcome = submitEncoded(TaskKind.CALL, task, null,
        this::decodeValue, () -> {
          stage.run();
          return null;
        }, -1);
    rejectIfUnshippable(outcome, "the function given to a CompletableFuture *Async method");
    task.completeFrom(outcome);
  }

  /** A task that could not be serialized is refused at once, not reported later. */
  private static void rejectIfUnshippable(CompletableFuture<?> future, String what) {
    if (!future.isCompletedExceptionally()) {
      return;
    }
    try {
      future.getNow(null);
    } catch (CompletionException e) {
      if (e.getCause() instanceof TaskSerializationException unshippable) {
        throw new RejectedExecutionException(what + " cannot be sent to a worker (" + unshippable.getMessage()
            + "); make it serializable, e.g. cast a lambda: (Supplier<T> & Serializable) () -> ..., or use"
            + " pool.submit(...), which takes serializable lambdas and returns a CompletableFuture", unshippable);
      }
    } catch (CancellationException e) {
      // Not a serialization failure.
    }
  }

  /** Logs a task's failure; the exception's own methods may throw, which must not reach the caller. */
  private static void logQuietly(String message, Throwable failure) {
    try {
      LOG.error(message, failure);
    } catch (RuntimeException | Error unprintable) {
      LOG.error("{}: {}", message, ThrowableCodec.safeToString(failure));
    }
  }

  @Override
  public <T, R> MapResults<R> map(SerializableFunction<? super T, ? extends R> function, Iterable<? extends T> inputs) {
    return map(function, inputs, MapOptions.defaults());
  }

  @Override
  public <T, R> MapResults<R> map(
      SerializableFunction<? super T, ? extends R> function, Iterable<? extends T> inputs, MapOptions options) {
    Objects.requireNonNull(inputs, "inputs");
    int size = inputs instanceof Collection<?> collection ? collection.size() : -1;
    return startMap(function, inputs.iterator(), size, options, () -> { });
  }

  @Override
  public <T, R> MapResults<R> map(
      SerializableFunction<? super T, ? extends R> function, Stream<? extends T> inputs, MapOptions options) {
    Objects.requireNonNull(inputs, "inputs");
    return startMap(function, inputs.iterator(), -1, options, inputs::close);
  }

  private <T, R> MapResults<R> startMap(SerializableFunction<? super T, ? extends R> function,
      java.util.Iterator<? extends T> inputs, int size, MapOptions options, Runnable onClose) {
    Objects.requireNonNull(function, "function");
    Objects.requireNonNull(options, "options");
    rejectIfShutdown();
    return ChunkedMap.start(this, codec, function, inputs, size, options, onClose);
  }

  /**
   * Encodes a task on the calling thread and queues it. A task that cannot be encoded fails its
   * own future.
   */
  private <T> CompletableFuture<T> submitEncoded(TaskKind kind, Object task, Object argument,
      TaskFuture.Decoder<T> decoder, Callable<?> runLocally, int target) {
    rejectIfShutdown();
    TaskFuture<T> future = new TaskFuture<>(this, decoder);
    RefCapture.Encoded encoded = RefCapture.Encoded.NOTHING;
    if (!handsOver) {
      try {
        encoded = encodeTask(kind, task, argument);
      } catch (TaskSerializationException e) {
        future.completeExceptionally(e);
        return future;
      }
    }
    TaskRecord record = new TaskRecord(kind, encoded.payload(), encoded.holding(future), asRunnable(runLocally));
    record.target = target;
    record.randomBase = TaskSeeds.taskBase(seed, submissions.getAndIncrement());
    if (handsOver) {
      record.handedOver = HandedOver.task(runLocally);
    }
    future.attach(record);
    enqueue(record);
    return future;
  }

  /**
   * Encodes a task's parts on the calling thread, noting the RemoteRefs they contain: those stay
   * stored until the task ends.
   */
  RefCapture.Encoded encodeCapturing(java.util.function.Supplier<Payload> encoding) {
    return RefCapture.encode(stored, encoding);
  }

  /** Queues an encoded task. */
  void enqueue(TaskRecord record) {
    submitLock.readLock().lock();
    try {
      rejectIfShutdown();
      front.submit(record);
    } finally {
      submitLock.readLock().unlock();
    }
  }

  private RefCapture.Encoded encodeTask(TaskKind kind, Object task, Object argument) {
    if (kind == TaskKind.APPLY) {
      return encodeCapturing(() -> codec.encode("task", task, (kryo, output) -> {
        codec.writeFunction(kryo, output, task);
        Codec.writePart(kryo, output, "argument", argument);
      }));
    }
    return encodeCapturing(() -> codec.encode("task", task, (kryo, output) -> Codec.writePart(kryo, output, "task", task)));
  }

  @SuppressWarnings("unchecked")
  private <T> T decodeValue(TaskRecord record, Payload result) {
    if (record.handedOver != null) {
      return (T) record.handedOver.value();
    }
    return (T) codec.decodeObject("result", result);
  }

  private static Runnable asRunnable(Callable<?> task) {
    return () -> {
      try {
        task.call();
      } catch (RuntimeException e) {
        throw e;
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    };
  }

  void cancel(TaskRecord record, boolean interrupt) {
    front.cancel(record, interrupt);
  }

  /** Waiting on the communication thread would wait for itself: refuse instead of hanging. */
  private static void refuseToBlockCommunicationThread(String operation) {
    if (CommunicationThread.isCurrent()) {
      throw new IllegalStateException(operation + " would block the pool's communication thread, which runs"
          + " the non-async stages of futures completed there (cancelled, or failed on the master): call it from"
          + " another thread, or use the *Async stage variants");
    }
  }

  /**
   * Waiting for termination while running a stage of one of the pool's results would wait for
   * itself, since the pool terminates once every result is complete: refuse instead of hanging.
   */
  private void refuseToAwaitTerminationFromAStage(String operation) {
    refuseToBlockCommunicationThread(operation);
    if (outcomes.decodingOnThisThread()) {
      throw new IllegalStateException(operation + " would block: it runs in a non-async stage of one of the pool's"
          + " results, and the pool terminates only once that stage is done; call it from another thread, or use"
          + " the *Async stage variants");
    }
  }

  void rejectIfShutdown() {
    BrokenPoolException broken = front.broken();
    if (broken != null) {
      throw new BrokenPoolException(broken.getMessage(), broken.workerRank(), broken.getCause());
    }
    if (front.isShutdown()) {
      throw new RejectedExecutionException("the executor has been shut down");
    }
  }

  @Override
  public <T> List<Future<T>> invokeAll(Collection<? extends Callable<T>> tasks) throws InterruptedException {
    refuseToBlockCommunicationThread("invokeAll");
    List<Future<T>> futures = submitAll(tasks);
    try {
      for (Future<T> future : futures) {
        awaitQuietly(future);
      }
    } catch (InterruptedException e) {
      futures.forEach(f -> f.cancel(true));
      throw e;
    }
    return futures;
  }

  @Override
  public <T> List<Future<T>> invokeAll(Collection<? extends Callable<T>> tasks, long timeout, TimeUnit unit)
      throws InterruptedException {
    refuseToBlockCommunicationThread("invokeAll");
    long deadline = System.nanoTime() + unit.toNanos(timeout);
    List<Future<T>> futures = submitAll(tasks);
    try {
      for (Future<T> future : futures) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          break;
        }
        try {
          future.get(left, TimeUnit.NANOSECONDS);
        } catch (ExecutionException | CancellationException | TimeoutException ignored) {
          // The future holds the outcome; only the deadline matters here.
        }
      }
    } finally {
      futures.forEach(f -> f.cancel(true));
    }
    return futures;
  }

  @Override
  public <T> T invokeAny(Collection<? extends Callable<T>> tasks) throws InterruptedException, ExecutionException {
    try {
      return invokeAny(tasks, Long.MAX_VALUE, TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      throw new IllegalStateException("unreachable: no deadline", e);
    }
  }

  @Override
  public <T> T invokeAny(Collection<? extends Callable<T>> tasks, long timeout, TimeUnit unit)
      throws InterruptedException, ExecutionException, TimeoutException {
    refuseToBlockCommunicationThread("invokeAny");
    if (tasks.isEmpty()) {
      throw new IllegalArgumentException("invokeAny needs at least one task");
    }
    List<Future<T>> futures = submitAll(tasks);
    CompletableFuture<T> first = new CompletableFuture<>();
    AtomicInteger failures = new AtomicInteger();
    for (Future<T> future : futures) {
      ((CompletableFuture<T>) future).whenComplete((value, failure) -> {
        if (failure == null) {
          first.complete(value);
        } else if (failures.incrementAndGet() == futures.size()) {
          first.completeExceptionally(failure);
        }
      });
    }
    try {
      return timeout == Long.MAX_VALUE ? first.get() : first.get(timeout, unit);
    } finally {
      futures.forEach(f -> f.cancel(true));
    }
  }

  private <T> List<Future<T>> submitAll(Collection<? extends Callable<T>> tasks) {
    List<Future<T>> futures = new ArrayList<>(tasks.size());
    try {
      for (Callable<T> task : tasks) {
        futures.add(submit(task));
      }
    } catch (RuntimeException e) {
      futures.forEach(f -> f.cancel(true));
      throw e;
    }
    return futures;
  }

  private static void awaitQuietly(Future<?> future) throws InterruptedException {
    try {
      future.get();
    } catch (ExecutionException | CancellationException ignored) {
      // The future holds the outcome.
    }
  }

  @Override
  public void shutdown() {
    submitLock.writeLock().lock();
    try {
      front.markShutdown();
    } finally {
      submitLock.writeLock().unlock();
    }
  }

  @Override
  public List<Runnable> shutdownNow() {
    refuseToBlockCommunicationThread("shutdownNow");
    shutdown();
    CompletableFuture<List<Runnable>> onMaster = new CompletableFuture<>();
    CompletableFuture<List<Runnable>> everywhere = new CompletableFuture<>();
    front.cancelAll(true, MasterAgent.SHUT_DOWN, onMaster, everywhere);
    try {
      return everywhere.get(CANCEL_ALL_WAIT_MILLIS, TimeUnit.MILLISECONDS);
    } catch (TimeoutException | ExecutionException e) {
      return onMaster.getNow(List.of());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return onMaster.getNow(List.of());
    }
  }

  /**
   * Stops handing out tasks, after a signal: no new submissions, and tasks not started (on the
   * master or queued on workers) are cancelled with the reason, while running ones go on; the
   * workers stop once those are done. Any thread.
   *
   * @param reason completes "a task ..." in the message of the cancelled tasks' exceptions
   * @return completes with the tasks that never started, once the workers gave back theirs
   */
  public CompletableFuture<List<Runnable>> stopHandingOut(String reason) {
    shutdown();
    CompletableFuture<List<Runnable>> everywhere = new CompletableFuture<>();
    front.cancelAll(false, reason, new CompletableFuture<>(), everywhere);
    return everywhere;
  }

  /** Returns how many tasks have run, with a result or a failure. */
  public long tasksRun() {
    return front.tasksRun();
  }

  /** Returns how many tasks the workers hold; after {@link #stopHandingOut}, those running. */
  public int tasksHeld() {
    return front.tasksHeld();
  }

  @Override
  public boolean isShutdown() {
    return front.isShutdown();
  }

  @Override
  public boolean isTerminated() {
    return outcomes.terminated();
  }

  @Override
  public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
    refuseToAwaitTerminationFromAStage("awaitTermination");
    return outcomes.awaitTermination(timeout, unit);
  }

  @Override
  public void close() {
    refuseToAwaitTerminationFromAStage("close");
    shutdown();
    boolean interrupted = false;
    while (!isTerminated()) {
      try {
        outcomes.awaitTermination();
      } catch (InterruptedException e) {
        if (!interrupted) {
          shutdownNow();
          interrupted = true;
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public String toString() {
    return "MpiPoolExecutor[workers=" + workers() + (front.broken() != null ? ", broken" : "")
        + (isTerminated() ? ", terminated" : isShutdown() ? ", shut down" : "") + "]";
  }
}
