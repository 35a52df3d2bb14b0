package org.jmpipool.internal.worker;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import org.jmpipool.RemoteOrigin;
import org.jmpipool.RemoteTaskException;
import org.jmpipool.TaskContext;
import org.jmpipool.TaskSerializationException;
import org.jmpipool.internal.loop.CommunicationThread;
import org.jmpipool.internal.wire.Codec;
import org.jmpipool.internal.wire.HandedOver;
import org.jmpipool.internal.wire.JdkAwareKryo;
import org.jmpipool.internal.wire.Payload;
import org.jmpipool.internal.wire.TaskKind;
import org.jmpipool.internal.wire.ThrowableCodec;
import org.jmpipool.internal.wire.Wire;

/**
 * The threads that run a worker's tasks: each takes the next queued task, decodes it, runs it,
 * encodes its result or its failure, and hands it back to the communication thread. Whatever a
 * task throws, errors included, becomes that task's failure.
 *
 * <p>Threads: its task threads run the loop; the thread running the communication loop's pass
 * queues, cancels and interrupts.
 */
final class TaskRunner {

  /**
   * After a task, poll this long before blocking: the next task is often on its way, and waking a
   * blocked thread takes longer. Each poll runs a pass of the communication loop, which receives
   * the next task on this very thread, or yields when another thread runs the pass: never spinning
   * without yielding, since the thread bringing the task may need this very core.
   */
  private static final long POLL_NANOS = TimeUnit.MICROSECONDS.toNanos(2000);
  private static final WorkerTask STOP = new WorkerTask(-1, TaskKind.RUN, 0, null);

  private final Codec codec;
  private final WorkerContext context;
  private final Consumer<WorkerTask> onFinished;
  /** The worker's communication thread, whose passes an idle task thread runs. */
  private final CommunicationThread communication;
  private final LinkedBlockingQueue<WorkerTask> queue = new LinkedBlockingQueue<>();
  private final List<Thread> threads = new ArrayList<>();

  TaskRunner(Codec codec, WorkerContext context, Consumer<WorkerTask> onFinished, CommunicationThread communication,
      String name, int threadCount) {
    this.codec = codec;
    this.context = context;
    this.onFinished = onFinished;
    this.communication = communication;
    for (int i = 0; i < threadCount; i++) {
      Thread thread = new Thread(this::runTasks, threadCount == 1 ? name : name + "-" + (i + 1));
      thread.setDaemon(true);
      threads.add(thread);
    }
  }

  void start() {
    threads.forEach(Thread::start);
  }

  void queue(WorkerTask task) {
    queue.add(task);
  }

  boolean hasQueued() {
    return !queue.isEmpty();
  }

  void shutdown() {
    threads.forEach(thread -> queue.add(STOP));
  }

  void interruptIfRunning(WorkerTask task) {
    task.interruptIfRunning();
  }

  /**
   * The loop of a task thread. It ends only by {@link #shutdown()}: an interrupt that reaches an
   * idle thread (a cancel racing the end of its task, or a thread a task left behind) is dropped,
   * and whatever a task does, its outcome is reported.
   */
  private void runTasks() {
    RunningTask.bind(context);
    RunningTask scope = RunningTask.onThisThread();
    WorkerTask task;
    while ((task = next()) != STOP) {
      if (!task.start()) {
        continue;
      }
      scope.begin(task.randomBase);
      try {
        execute(task);
      } finally {
        scope.end();
        task.finishRunning();
      }
      onFinished.accept(task);
    }
  }

  private WorkerTask next() {
    long start = System.nanoTime();
    long idle;
    do {
      WorkerTask task = queue.poll();
      if (task != null) {
        return task;
      }
      if (!communication.help()) {
        Thread.yield();
      }
      idle = System.nanoTime() - start;
    } while (idle < POLL_NANOS);
    // This thread blocks now: the communication thread takes the passes over at once.
    communication.endHelp();
    while (true) {
      try {
        return queue.take();
      } catch (InterruptedException strayInterrupt) {
        // Meant for a task that has ended: the thread keeps serving its queue.
      }
    }
  }

  private void execute(WorkerTask task) {
    long start = System.nanoTime();
    if (task.handedOver != null) {
      executeHandedOver(task);
      task.executionNanos = System.nanoTime() - start;
      return;
    }
    Payload payload = task.payload;
    task.payload = null;
    try {
      task.result = switch (task.kind) {
        case CALL -> codec.encodeObject("result", ((Callable<?>) decodeOne(payload)).call());
        case RUN -> {
          ((Runnable) decodeOne(payload)).run();
          yield Payload.EMPTY;
        }
        case APPLY -> apply(payload);
        case CHUNK -> applyToChunk(payload);
        case INIT -> {
          context.state = ((Callable<?>) decodeOne(payload)).call();
          yield Payload.EMPTY;
        }
      };
      task.resultType = Wire.RESULT;
    } catch (Throwable failure) {
      task.result = encodeFailure(failure);
      task.resultType = Wire.FAILED;
    }
    task.executionNanos = System.nanoTime() - start;
  }

  /**
   * Encodes a task's failure. Describing it never fails on the exception's account; should the
   * worker itself fail meanwhile (out of memory for a huge message), the task still fails with
   * what is known: the class of what it threw.
   */
  private Payload encodeFailure(Throwable failure) {
    try {
      return Payload.of(ThrowableCodec.encode(failure, context.rank, context.host));
    } catch (Throwable describing) {
      RemoteTaskException standIn = new RemoteTaskException(failure.getClass().getName(),
          "(the worker could not describe it: " + describing.getClass().getName() + ")");
      return Payload.of(ThrowableCodec.encode(standIn, context.rank, context.host));
    }
  }

  /** Runs a task handed over as an object, and leaves its outcome in it. */
  private void executeHandedOver(WorkerTask task) {
    HandedOver handedOver = task.handedOver;
    try {
      Object value;
      if (task.kind == TaskKind.CHUNK) {
        List<Object> values = new ArrayList<>(handedOver.items().size());
        Throwable itemFailure = applyEach(handedOver.function(), handedOver.items(), values);
        value = new HandedOver.ChunkOutcome(values, itemFailure == null ? null : markOrigin(itemFailure));
      } else {
        value = handedOver.task().call();
        if (task.kind == TaskKind.INIT) {
          context.state = value;
          value = null;
        }
      }
      handedOver.succeeded(value);
      task.resultType = Wire.RESULT;
    } catch (Throwable failure) {
      handedOver.failed(markOrigin(failure));
      task.resultType = Wire.FAILED;
    }
    task.result = Payload.EMPTY;
  }

  /**
   * Applies a chunk's function to its items in order on the calling task thread, each item with
   * its own random generator, until one fails.
   *
   * @param values receives the values of the items before the failure
   * @return the failure, or {@code null}
   */
  private static Throwable applyEach(Function<Object, ?> function, List<Object> items, List<Object> values) {
    RunningTask scope = RunningTask.onThisThread();
    for (int i = 0; i < items.size(); i++) {
      scope.item(i);
      try {
        values.add(function.apply(items.get(i)));
      } catch (Throwable failure) {
        return failure;
      }
    }
    return null;
  }

  /**
   * Prepares an exception that does not travel as bytes for its caller: attaches the
   * {@link RemoteOrigin} of the calling task thread (a decoded one gets it when decoded), or
   * describes it in words when its methods misbehave ({@link ThrowableCodec#wellBehaved}).
   */
  private static Throwable markOrigin(Throwable failure) {
    TaskContext context = RunningTask.context();
    Throwable passed = ThrowableCodec.wellBehaved(failure, context.rank(), context.host());
    if (RemoteOrigin.of(passed).isEmpty()) {
      passed.addSuppressed(new RemoteOrigin(context.rank(), context.host()));
    }
    return passed;
  }

  /** Decodes a task's payload, and lets go of it: the task thread needs only the objects. */
  private <T> T decodeTask(Payload payload, Codec.Reader<T> reader) {
    try {
      return codec.decode("task", payload, reader);
    } finally {
      payload.release();
    }
  }

  private Object decodeOne(Payload payload) {
    return decodeTask(payload, JdkAwareKryo::readClassAndObject);
  }

  @SuppressWarnings("unchecked")
  private Payload apply(Payload payload) {
    Object[] parts = decodeTask(payload,
        (kryo, input) -> new Object[] {codec.readFunction(kryo, input), kryo.readClassAndObject(input)});
    Object value = ((Function<Object, Object>) parts[0]).apply(parts[1]);
    return codec.encodeObject("result", value);
  }

  @SuppressWarnings("unchecked")
  private Payload applyToChunk(Payload payload) {
    Object[] parts = decodeTask(payload, (kryo, input) -> {
      Object function = codec.readFunction(kryo, input);
      RuntimeException[] failure = new RuntimeException[1];
      List<Object> items = Codec.readList(kryo, input, failure);
      if (failure[0] != null) {
        throw failure[0];
      }
      return new Object[] {function, items};
    });
    Function<Object, Object> function = (Function<Object, Object>) parts[0];
    List<Object> items = (List<Object>) parts[1];
    List<Object> values = new ArrayList<>(items.size());
    Throwable itemFailure = applyEach(function, items, values);
    return codec.encode("map results", null, (kryo, output) -> {
      StringBuilder serializationFailure = new StringBuilder();
      Throwable first = itemFailure;
      if (Codec.writeList(kryo, output, values, serializationFailure) >= 0) {
        first = new TaskSerializationException(serializationFailure.toString(), null);
      }
      output.writeBoolean(first != null);
      if (first != null) {
        byte[] encoded = ThrowableCodec.encode(first, context.rank, context.host);
        output.writeInt(encoded.length);
        output.writeBytes(encoded);
      }
    });
  }
}
