package org.jmpipool.internal.master;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ForkJoinTask;
import org.jmpipool.TaskContext;
import org.jmpipool.internal.wire.ThrowableCodec;

/**
 * Runs on a worker a stage that one of {@link CompletableFuture}'s {@code *Async} methods
 * ({@code supplyAsync}, {@code runAsync}, {@code thenApplyAsync}, {@code handleAsync}...) hands
 * to the pool's {@code execute()}.
 *
 * <p>The JDK's stage object holds the user's function, the futures it reads (complete by now)
 * and the future it completes; its class is private to the JDK. Java serialization takes it
 * apart on the master without reflection into the JDK's closed packages: its replace hook cuts
 * out the futures and the user's objects, and the rest, the stage's skeleton, travels as bytes.
 * On the worker, the resolve hook rebuilds the skeleton around copies of the user's objects and
 * of the completed futures, and the stage runs there; the future it completed gives the outcome,
 * with which the master completes the real one. The user's objects travel with Kryo, like any
 * task: a function that cannot be serialized is refused when the stage is handed over.
 *
 * <p>Threads: taken apart by the thread that hands the stage to {@code execute()}; run by a
 * worker's task thread; the real future is completed by whichever thread completes the task's.
 */
final class CompletionStageTask implements Callable<CompletionStageTask.Outcome> {

  /** The Java serialization of the stage, its futures and objects replaced by slots. */
  private final byte[] skeleton;
  /** The user's objects the stage holds: its function and what it captured. */
  private final Object[] parts;
  /** What the futures the stage holds looked like when it was handed over. */
  private final FutureCopy[] futures;
  /** The master's futures, by slot; they stay on the master. */
  private final transient List<CompletableFuture<?>> originals;

  /** Where a future was cut out of the skeleton. */
  private record FutureSlot(int index) implements Serializable {
  }

  /** Where one of the user's objects was cut out of the skeleton. */
  private record PartSlot(int index) implements Serializable {
  }

  /** A future as the stage saw it: incomplete, or completed with a value or an exception. */
  private record FutureCopy(boolean done, boolean failed, Object outcome) {

    static FutureCopy of(CompletableFuture<?> future) {
      if (!future.isDone()) {
        return new FutureCopy(false, false, null);
      }
      Object[] outcome = new Object[2];
      future.whenComplete((value, failure) -> {
        outcome[0] = value;
        outcome[1] = failure;
      });
      return outcome[1] != null ? new FutureCopy(true, true, outcome[1]) : new FutureCopy(true, false, outcome[0]);
    }

    CompletableFuture<Object> rebuild() {
      CompletableFuture<Object> copy = new CompletableFuture<>();
      if (done && failed) {
        copy.completeExceptionally((Throwable) outcome);
      } else if (done) {
        copy.complete(outcome);
      }
      return copy;
    }
  }

  /**
   * What running the stage on the worker gave.
   *
   * @param slot the future the stage completed
   * @param value its value, when it completed normally
   * @param failure its exception ({@link ThrowableCodec}), or {@code null}
   */
  record Outcome(int slot, Object value, byte[] failure) {
  }

  private CompletionStageTask(byte[] skeleton, Object[] parts, FutureCopy[] futures,
      List<CompletableFuture<?>> originals) {
    this.skeleton = skeleton;
    this.parts = parts;
    this.futures = futures;
    this.originals = originals;
  }

  /** Returns whether a task handed to execute() is a stage of a {@link CompletableFuture}. */
  static boolean isStage(Runnable task) {
    return task instanceof CompletableFuture.AsynchronousCompletionTask;
  }

  /**
   * Takes a stage apart on the master.
   *
   * @param stage what {@code execute()} received
   * @return the task to send
   * @throws IllegalArgumentException when Java serialization cannot take the stage apart
   */
  static CompletionStageTask takeApart(Runnable stage) {
    List<Object> parts = new ArrayList<>();
    List<CompletableFuture<?>> futures = new ArrayList<>();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(1024);
    try (ObjectOutputStream out = new ObjectOutputStream(bytes) {
      {
        enableReplaceObject(true);
      }

      @Override
      protected Object replaceObject(Object object) {
        if (object == stage) {
          return object;
        }
        if (object instanceof CompletableFuture<?> future) {
          futures.add(future);
          return new FutureSlot(futures.size() - 1);
        }
        if (object instanceof ForkJoinTask<?>) {
          // Another stage linked to this one on its source's stack: meaningless on a worker.
          return null;
        }
        parts.add(object);
        return new PartSlot(parts.size() - 1);
      }
    }) {
      out.writeObject(stage);
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("cannot take apart the CompletableFuture stage " + stage.getClass().getName()
          + ": " + e, e);
    }
    FutureCopy[] copies = futures.stream().map(FutureCopy::of).toArray(FutureCopy[]::new);
    return new CompletionStageTask(bytes.toByteArray(), parts.toArray(), copies, futures);
  }

  /** Rebuilds the stage on the worker, runs it, and returns what the future it completed holds. */
  @Override
  public Outcome call() throws IOException, ClassNotFoundException {
    CompletableFuture<?>[] copies = new CompletableFuture<?>[futures.length];
    for (int i = 0; i < futures.length; i++) {
      copies[i] = futures[i].rebuild();
    }
    Runnable stage;
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(skeleton)) {
      {
        enableResolveObject(true);
      }

      @Override
      protected Object resolveObject(Object object) {
        if (object instanceof PartSlot part) {
          return parts[part.index()];
        }
        if (object instanceof FutureSlot slot) {
          return copies[slot.index()];
        }
        return object;
      }
    }) {
      stage = (Runnable) in.readObject();
    }
    stage.run();
    for (int i = 0; i < copies.length; i++) {
      if (!futures[i].done() && copies[i].isDone()) {
        return outcome(i, copies[i]);
      }
    }
    throw new IllegalStateException("the CompletableFuture stage did not complete its future on the worker"
        + " (a thenComposeAsync function must return a completed stage there)");
  }

  private static Outcome outcome(int slot, CompletableFuture<?> completed) {
    Object[] outcome = new Object[2];
    completed.whenComplete((value, failure) -> {
      outcome[0] = value;
      outcome[1] = failure;
    });
    if (outcome[1] == null) {
      return new Outcome(slot, outcome[0], null);
    }
    TaskContext context = TaskContext.current();
    return new Outcome(slot, null, ThrowableCodec.encode((Throwable) outcome[1], context.rank(), context.host()));
  }

  /** Returns whether the stage has a future left to complete (one the user has not completed already). */
  boolean completesAFuture() {
    for (int i = 0; i < futures.length; i++) {
      if (!futures[i].done()) {
        return true;
      }
    }
    return false;
  }

  /**
   * The future the stage completes, as far as the master can tell before it runs: the first one
   * still incomplete (the JDK writes it first). The outcome names the right one.
   */
  private CompletableFuture<?> dependent() {
    for (int i = 0; i < futures.length; i++) {
      if (!futures[i].done()) {
        return originals.get(i);
      }
    }
    throw new IllegalStateException("a CompletableFuture stage without a future to complete");
  }

  /**
   * Completes the master's future from what the worker sent, and cancels the task if the user
   * cancels that future first; master, any thread.
   *
   * @param task the pool's future of this task
   */
  void completeFrom(CompletableFuture<Outcome> task) {
    dependent().whenComplete((value, failure) -> {
      if (failure instanceof CancellationException) {
        task.cancel(true);
      }
    });
    task.whenComplete((outcome, failure) -> {
      if (failure != null) {
        dependent().completeExceptionally(failure);
      } else {
        complete(originals.get(outcome.slot()), outcome);
      }
    });
  }

  @SuppressWarnings("unchecked")
  private static void complete(CompletableFuture<?> future, Outcome outcome) {
    if (outcome.failure() == null) {
      ((CompletableFuture<Object>) future).complete(outcome.value());
      return;
    }
    Throwable failure;
    try {
      failure = ThrowableCodec.decode(outcome.failure());
    } catch (RuntimeException | Error undecodable) {
      // Out of memory for a huge exception, say: whenComplete would swallow it, and the stage would never end.
      failure = undecodable;
    }
    future.completeExceptionally(failure);
  }
}
