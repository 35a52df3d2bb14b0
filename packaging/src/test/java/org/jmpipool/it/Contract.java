package org.jmpipool.it;

import com.esotericsoftware.kryo.kryo5.Kryo;
import com.esotericsoftware.kryo.kryo5.KryoSerializable;
import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;
import java.io.IOException;
import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.jmpipool.Jmpipool;
import org.jmpipool.MapOptions;
import org.jmpipool.MapResults;
import org.jmpipool.MpiPoolExecutor;
import org.jmpipool.RemoteOrigin;
import org.jmpipool.RemoteTaskException;
import org.jmpipool.SerializableFunction;
import org.jmpipool.TaskContext;
import org.jmpipool.TaskSerializationException;

/**
 * The executor's contract: one suite of checks for every backend. {@link #checks} gives them in
 * order (the last shuts the pool down); {@link ExecutorIT} runs them in launched jobs through
 * {@link #main}, {@link EmbeddedContractIT} on local and spawned pools.
 */
public final class Contract {

  private Contract() {
  }

  interface Check {
    void run() throws Exception;
  }

  /** A named check. */
  record Named(String name, Check check) {
  }

  /**
   * Runs the checks on the launched job's executor, one line per check: {@code PASS name} or
   * {@code FAIL name: why}. Exits 1 if any check fails.
   */
  public static void main(String[] args) {
    runAll(checks(Jmpipool.executor(), true));
  }

  /** Runs checks in order, one line each, then a summary line; exits 1 if any failed. */
  static void runAll(List<Named> checks) {
    List<String> failures = new ArrayList<>();
    for (Named named : checks) {
      try {
        named.check().run();
        System.out.println("PASS " + named.name());
      } catch (Throwable t) {
        System.out.println("FAIL " + named.name() + ": " + t);
        t.printStackTrace(System.out);
        failures.add(named.name());
      }
    }
    System.out.println(failures.isEmpty() ? "ALL PASSED" : "FAILED: " + failures);
    if (!failures.isEmpty()) {
      System.exit(1);
    }
  }

  static void expect(boolean condition, String what) {
    if (!condition) {
      throw new AssertionError(what);
    }
  }

  /** Sleeps on a thread of the test's own (Programs.sleep is for tasks). */
  static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static int square(int x) {
    return x * x;
  }

  /** Exceptions whose own methods misbehave, as user code may write them. */
  enum Awkward {
    MESSAGE_OVERFLOWS_THE_STACK, MESSAGE_THROWS_AN_ERROR, STACK_TRACE_THROWS, CAUSE_THROWS, WRITE_OBJECT_FAILS,
    TO_STRING_THROWS;

    Object raise() {
      throw switch (this) {
        case MESSAGE_OVERFLOWS_THE_STACK -> new RuntimeException() {
          @Override
          public String getMessage() {
            return getMessage() + "!";
          }
        };
        case MESSAGE_THROWS_AN_ERROR -> new RuntimeException() {
          @Override
          public String getMessage() {
            throw new InternalError("no message");
          }
        };
        case STACK_TRACE_THROWS -> new RuntimeException("trace") {
          @Override
          public StackTraceElement[] getStackTrace() {
            throw new IllegalStateException("no stack trace");
          }
        };
        case CAUSE_THROWS -> new RuntimeException("cause") {
          @Override
          public synchronized Throwable getCause() {
            throw new IllegalStateException("no cause");
          }
        };
        case WRITE_OBJECT_FAILS -> new Unwritable();
        case TO_STRING_THROWS -> new RuntimeException("to string") {
          @Override
          public String toString() {
            throw new IllegalStateException("no string");
          }

          @Override
          public String getLocalizedMessage() {
            throw new IllegalStateException("no localized message");
          }
        };
      };
    }

    /** An exception whose Java serialization fails with an error. */
    static final class Unwritable extends RuntimeException {
      private static final long serialVersionUID = 1L;

      Unwritable() {
        super("unwritable");
      }

      private void writeObject(java.io.ObjectOutputStream out) {
        throw new InternalError("cannot write");
      }
    }
  }

  /** Can be read only on a worker's task thread: stands for a class the master cannot load. */
  static final class ReadableOnlyInTasks implements KryoSerializable {
    @Override
    public void write(Kryo kryo, Output output) {
      output.writeInt(1);
    }

    @Override
    public void read(Kryo kryo, Input input) {
      input.readInt();
      TaskContext.current();
    }
  }

  /** Sleeps on a worker, then returns how long. */
  static int sleepThenReturn(int millis) {
    Programs.sleep(millis);
    return millis;
  }

  static int recurse() {
    return recurse() + 1;
  }

  /** Expects a call to throw an exception of a class, and returns it. */
  static <E extends Throwable> E fails(Class<E> expected, Check call, String what) throws Exception {
    try {
      call.run();
    } catch (Throwable thrown) {
      if (expected.isInstance(thrown)) {
        return expected.cast(thrown);
      }
      throw new AssertionError(what + ": expected " + expected.getSimpleName() + ", got " + thrown, thrown);
    }
    throw new AssertionError(what + ": expected " + expected.getSimpleName() + ", got nothing");
  }

  /**
   * Fails unless every worker runs short tasks again: a worker still busy with a task that
   * should have been cancelled keeps those queued on it waiting.
   */
  static void expectEveryWorkerFree(MpiPoolExecutor pool, int workers, String when) throws Exception {
    List<CompletableFuture<Integer>> probes = new ArrayList<>();
    for (int i = 0; i < 3 * workers; i++) {
      probes.add(pool.submit(() -> Programs.sleep(100)));
    }
    for (CompletableFuture<Integer> probe : probes) {
      try {
        probe.get(20, TimeUnit.SECONDS);
      } catch (TimeoutException e) {
        throw new AssertionError("a worker is still busy " + when + ": the task waited for was not cancelled");
      }
    }
  }

  /**
   * Returns the checks of the contract, in the order they must run.
   *
   * @param pool the executor under test; the last check shuts it down
   * @param serializes whether the pool serializes tasks (every backend but a local pool without
   *     serialization): the checks of serialization failures apply only then
   */
  static List<Named> checks(MpiPoolExecutor pool, boolean serializes) {
    List<Named> checks = new ArrayList<>();
    int workers = pool.workers();

    checks.add(new Named("results", () -> {
      expect(pool.submit(() -> 6 * 7).get() == 42, "callable");
      expect(pool.submit(Contract::square, 9).get() == 81, "function");
      expect("ok".equals(pool.submit((Runnable & Serializable) () -> { }, "ok").get()), "runnable");
    }));

    checks.add(new Named("task-context", () -> {
      Set<Integer> ranks = new TreeSet<>();
      List<CompletableFuture<String>> futures = new ArrayList<>();
      for (int i = 0; i < 8 * workers; i++) {
        futures.add(pool.submit(() -> {
          Thread.sleep(20);
          TaskContext context = TaskContext.current();
          return context.rank() + "/" + context.worldSize() + "/" + context.host();
        }));
      }
      for (CompletableFuture<String> future : futures) {
        String[] parts = future.get().split("/");
        ranks.add(Integer.parseInt(parts[0]));
        expect(Integer.parseInt(parts[1]) == workers + 1, "world size");
        expect(!parts[2].isEmpty(), "host");
      }
      expect(ranks.equals(new TreeSet<>(IntStream.rangeClosed(1, workers).boxed().toList())), "all workers ran tasks: " + ranks);
      fails(IllegalStateException.class, TaskContext::current, "TaskContext outside a task");
    }));

    checks.add(new Named("remote-exception", () -> {
      try {
        pool.submit((Callable<Integer> & Serializable) () -> {
          throw new IllegalArgumentException("bad input 17");
        }).get();
        throw new AssertionError("no exception");
      } catch (ExecutionException e) {
        expect(e.getCause() instanceof IllegalArgumentException, "same class: " + e.getCause());
        expect("bad input 17".equals(e.getCause().getMessage()), "message");
        RemoteOrigin origin = RemoteOrigin.of(e.getCause()).orElseThrow();
        expect(origin.workerRank() >= 1 && origin.workerRank() <= workers, "rank " + origin.workerRank());
        expect(!origin.host().isEmpty(), "host");
        expect(e.getCause().getStackTrace()[0].getMethodName().contains("lambda"), "the remote stack trace is kept");
      }
      ExecutionException overflow = fails(ExecutionException.class,
          () -> pool.submit((Callable<Integer> & Serializable) Contract::recurse).get(), "a stack overflow");
      expect(overflow.getCause() instanceof StackOverflowError, "an error comes back as itself: " + overflow.getCause());
      expect(pool.submit(() -> 1).get() == 1, "the worker survives its task's error");
    }));

    checks.add(new Named("awkward-exceptions-fail-their-own-futures", () -> {
      for (Awkward kind : Awkward.values()) {
        try {
          pool.submit(() -> kind.raise()).get(20, TimeUnit.SECONDS);
          throw new AssertionError(kind + ": no exception");
        } catch (ExecutionException e) {
          Throwable cause = e.getCause();
          if (serializes || kind != Awkward.WRITE_OBJECT_FAILS) {
            // Described in words: nothing on the master calls the misbehaving methods again.
            expect(cause instanceof RemoteTaskException remote && remote.remoteClassName().startsWith(Awkward.class.getName()),
                kind + ": described, got " + cause.getClass().getName());
          } else {
            expect(cause instanceof Awkward.Unwritable, kind + ": handed over as it is");
          }
        } catch (TimeoutException e) {
          throw new AssertionError(kind + ": the future never completed");
        }
      }
      expectEveryWorkerFree(pool, workers, "after awkward exceptions");
    }));

    checks.add(new Named("an-idle-task-thread-survives-a-stray-interrupt", () -> {
      List<CompletableFuture<Boolean>> strays = new ArrayList<>();
      for (int i = 0; i < 2 * workers; i++) {
        strays.add(pool.submit(() -> {
          Thread taskThread = Thread.currentThread();
          Thread later = new Thread(() -> {
            pause(300);
            taskThread.interrupt();
          });
          later.setDaemon(true);
          later.start();
          return true;
        }));
      }
      for (CompletableFuture<Boolean> stray : strays) {
        stray.get(20, TimeUnit.SECONDS);
      }
      Thread.sleep(600);
      expectEveryWorkerFree(pool, workers, "after stray interrupts of idle task threads");
    }));

    checks.add(new Named("exceptions-travel-as-arguments", () -> {
      String message = pool.submit((Exception e) -> e.getClass().getSimpleName() + ": " + e.getMessage(),
          new IOException("carried")).get(20, TimeUnit.SECONDS);
      expect("IOException: carried".equals(message), message);
    }));

    checks.add(new Named("completable-future-async-stages-run-on-workers", () -> {
      int rank = CompletableFuture.supplyAsync((Supplier<Integer> & Serializable) () -> TaskContext.current().rank(), pool)
          .get(20, TimeUnit.SECONDS);
      expect(rank >= 1 && rank <= workers, "supplyAsync ran on a worker: " + rank);
      CompletableFuture.runAsync((Runnable & Serializable) () -> TaskContext.current().rank(), pool).get(20, TimeUnit.SECONDS);
      CompletableFuture<Integer> source = new CompletableFuture<>();
      CompletableFuture<String> chained = source.thenApplyAsync(
          (Function<Integer, String> & Serializable) x -> x + 1 + "@" + TaskContext.current().rank(), pool);
      source.complete(41);
      expect(chained.get(20, TimeUnit.SECONDS).startsWith("42@"), "thenApplyAsync: " + chained.get());
      CompletableFuture<Integer> combined = CompletableFuture.completedFuture(2).thenCombineAsync(
          CompletableFuture.completedFuture(3), (BiFunction<Integer, Integer, Integer> & Serializable) Integer::sum, pool);
      expect(combined.get(20, TimeUnit.SECONDS) == 5, "thenCombineAsync");
      CompletableFuture<String> handled = CompletableFuture.<Integer>failedFuture(new ArithmeticException("source"))
          .handleAsync((BiFunction<Integer, Throwable, String> & Serializable) (v, t) -> "handled " + t.getMessage(), pool);
      expect("handled source".equals(handled.get(20, TimeUnit.SECONDS)), handled.get());
      try {
        CompletableFuture.supplyAsync((Supplier<Integer> & Serializable) () -> {
          throw new IllegalArgumentException("from a stage");
        }, pool).get(20, TimeUnit.SECONDS);
        throw new AssertionError("no exception");
      } catch (ExecutionException e) {
        expect(e.getCause() instanceof IllegalArgumentException && "from a stage".equals(e.getCause().getMessage()),
            "the stage's exception: " + e.getCause());
      }
      if (serializes) {
        try {
          CompletableFuture.supplyAsync(() -> 1, pool);
          throw new AssertionError("accepted a function that cannot be serialized");
        } catch (RejectedExecutionException e) {
          expect(e.getMessage().contains("Serializable"), e.getMessage());
        }
        CompletableFuture<Integer> refused = CompletableFuture.completedFuture(1).thenApplyAsync(x -> x, pool);
        expect(refused.isCompletedExceptionally(), "a dependent stage that cannot be shipped fails at once");
      }
    }));

    checks.add(new Named("no-executor-inside-tasks", () -> {
      try {
        pool.submit(() -> Jmpipool.executor().workers()).get();
        throw new AssertionError("no exception");
      } catch (ExecutionException e) {
        expect(e.getCause() instanceof IllegalStateException, "cause " + e.getCause());
        expect(e.getCause().getMessage().contains("a task cannot submit tasks"), e.getCause().getMessage());
      }
    }));

    if (serializes) {
      checks.add(new Named("unserializable-task-fails-alone", () -> {
      Supplier<Integer> local = () -> 1;
      Callable<Integer> task = local::get;
      try {
        pool.submit(task).get();
        throw new AssertionError("no exception");
      } catch (ExecutionException e) {
        expect(e.getCause() instanceof TaskSerializationException, "cause " + e.getCause());
        expect(e.getCause().getMessage().contains(task.getClass().getName()), e.getCause().getMessage());
      }
      expect(pool.submit(() -> 5).get() == 5, "pool keeps working");
    }));

    checks.add(new Named("unserializable-result-fails-alone", () -> {
      try {
        pool.submit(() -> (Supplier<String>) () -> "x").get();
        throw new AssertionError("no exception");
      } catch (ExecutionException e) {
        expect(e.getCause() instanceof TaskSerializationException, "cause " + e.getCause());
      }
      expect(pool.submit(() -> 6).get() == 6, "pool keeps working");
      ExecutionException unreadable = fails(ExecutionException.class,
          () -> pool.submit(ReadableOnlyInTasks::new).get(), "a result the master cannot read");
      expect(unreadable.getCause() instanceof TaskSerializationException
          && unreadable.getCause().getMessage().startsWith("cannot deserialize the result"), "cause " + unreadable.getCause());
      expect(pool.submit(() -> 7).get() == 7, "pool keeps working");
      Runnable plain = () -> { };
      RejectedExecutionException refused = fails(RejectedExecutionException.class, () -> pool.execute(plain),
          "execute() of a task that cannot be serialized");
      expect(refused.getMessage().contains("Serializable"), refused.getMessage());
    }));

    checks.add(new Named("map-serialization-failures", () -> {
      List<Object> inputs = new ArrayList<>(List.of("a", "b"));
      inputs.add((Function<String, String>) x -> x);
      inputs.add("d");
      List<Object> delivered = new ArrayList<>();
      MapResults<Object> results = pool.map((Object x) -> x, inputs, MapOptions.defaults().chunkSize(10));
      CompletionException item = fails(CompletionException.class, () -> results.forEach(delivered::add),
          "an item that cannot be serialized");
      expect(item.getCause() instanceof TaskSerializationException, "cause " + item.getCause());
      expect(delivered.equals(List.of("a", "b")), "the items before it: " + delivered);
      Function<Integer, Integer> plain = x -> x;
      SerializableFunction<Integer, Integer> wrapped = plain::apply;
      CompletionException function = fails(CompletionException.class,
          () -> pool.map(wrapped, List.of(1, 2, 3)).toList(), "a function that cannot be serialized");
      expect(function.getCause() instanceof TaskSerializationException, "cause " + function.getCause());
    }));
    } else {
      checks.add(new Named("objects-handed-over-as-they-are", () -> {
        int[] shared = new int[1];
        pool.submit(() -> shared[0] = 42).get();
        expect(shared[0] == 42, "the task changed the caller's array");
      }));
    }

    checks.add(new Named("cancel-queued", () -> {
      List<CompletableFuture<Integer>> busy = new ArrayList<>();
      for (int i = 0; i < 3 * workers; i++) {
        busy.add(pool.submit(() -> sleepThenReturn(200)));
      }
      CompletableFuture<Integer> queued = pool.submit(() -> 99);
      expect(queued.cancel(false), "cancelled");
      fails(CancellationException.class, queued::get, "a cancelled task's future");
      for (CompletableFuture<Integer> future : busy) {
        expect(future.get(20, TimeUnit.SECONDS) == 200, "the others ran");
      }
    }));

    checks.add(new Named("invoke-all-and-any", () -> {
      List<Callable<Integer>> tasks = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        int value = i;
        tasks.add((Callable<Integer> & Serializable) () -> value);
      }
      List<Future<Integer>> results = pool.invokeAll(tasks);
      for (int i = 0; i < 8; i++) {
        expect(results.get(i).isDone() && results.get(i).get() == i, "invokeAll result " + i);
      }
      List<Future<Integer>> timed = pool.invokeAll(List.of((Callable<Integer> & Serializable) () -> sleepThenReturn(50),
          (Callable<Integer> & Serializable) () -> Programs.sleep(60_000)), 2, TimeUnit.SECONDS);
      expect(timed.get(0).get() == 50, "a task done in time keeps its result");
      expect(timed.get(1).isCancelled(), "a task late for the deadline is cancelled");
      expect(pool.invokeAny(List.of((Callable<Integer> & Serializable) () -> {
        throw new IllegalStateException("first fails");
      }, (Callable<Integer> & Serializable) () -> sleepThenReturn(100))) == 100, "invokeAny takes a success");
      fails(ExecutionException.class, () -> pool.invokeAny(List.of((Callable<Integer> & Serializable) () -> {
        throw new IllegalStateException("fails");
      })), "invokeAny when all fail");
      fails(TimeoutException.class, () -> pool.invokeAny(List.of((Callable<Integer> & Serializable) () -> Programs.sleep(60_000)),
          200, TimeUnit.MILLISECONDS), "invokeAny past its deadline");
      expectEveryWorkerFree(pool, workers, "after invokeAll and invokeAny cancelled their late tasks");
    }));

    checks.add(new Named("non-async-stages-may-wait-for-other-results", () -> {
      CompletableFuture<Integer> chained = pool.submit(() -> sleepThenReturn(300))
          .thenApply(x -> pool.submit(() -> x + 1).join());
      expect(chained.get(20, TimeUnit.SECONDS) == 301, "a stage that waits for another result");
      CompletableFuture<Integer> second = pool.submit(() -> sleepThenReturn(600));
      CompletableFuture<Integer> first = pool.submit(() -> sleepThenReturn(200));
      CompletableFuture<Integer> third = pool.submit(() -> sleepThenReturn(400));
      CompletableFuture<Integer> sum = first.thenApply(
          x -> CompletableFuture.allOf(second, third).thenApply(done -> x + second.join() + third.join()).join());
      expect(sum.get(20, TimeUnit.SECONDS) == 1200, "a stage that waits for results arriving meanwhile");
      CompletableFuture<Void> closing = pool.submit(() -> sleepThenReturn(300)).thenRun(pool::close);
      ExecutionException refused = fails(ExecutionException.class, () -> closing.get(20, TimeUnit.SECONDS),
          "close() from a stage of one of the pool's results");
      expect(refused.getCause() instanceof IllegalStateException
          && refused.getCause().getMessage().startsWith("close would block"), "refused, not hung: " + refused.getCause());
      expect(!pool.isShutdown(), "the pool goes on");
    }));

    checks.add(new Named("cancel-interrupts", () -> {
      CompletableFuture<Integer> running = pool.submit(() -> Programs.sleep(60_000));
      Thread.sleep(300);
      expect(running.cancel(true), "cancelled");
      List<CompletableFuture<Integer>> after = new ArrayList<>();
      for (int i = 0; i < workers; i++) {
        after.add(pool.submit(() -> 1));
      }
      for (CompletableFuture<Integer> f : after) {
        expect(f.get(20, TimeUnit.SECONDS) == 1, "workers free again");
      }
    }));

    checks.add(new Named("map-ordered", () -> {
      List<Integer> inputs = IntStream.range(0, 100_000).boxed().toList();
      expect(pool.map((Integer x) -> x + 1, inputs).toList().equals(inputs.stream().map(x -> x + 1).toList()), "default");
      for (int chunk : new int[] {1, 3, 100_000, 1_000_000}) {
        List<Integer> small = IntStream.range(0, 50).boxed().toList();
        expect(pool.map((Integer x) -> x, small, MapOptions.defaults().chunkSize(chunk)).toList().equals(small), "chunk " + chunk);
      }
    }));

    checks.add(new Named("map-unordered", () -> {
      List<Integer> results = new ArrayList<>(pool.map((Integer x) -> Programs.sleep(x % 5) * 0 + x,
          IntStream.range(0, 40).boxed().toList(), MapOptions.defaults().unordered()).toList());
      results.sort(null);
      expect(results.equals(IntStream.range(0, 40).boxed().toList()), "same multiset " + results);
    }));

    checks.add(new Named("map-failing-item", () -> {
      List<Integer> delivered = new ArrayList<>();
      try {
        pool.map((Integer x) -> {
          if (x == 500) {
            throw new ArithmeticException("item 500");
          }
          return x;
        }, IntStream.range(0, 1000).boxed().toList(), MapOptions.defaults().chunkSize(64)).forEach(delivered::add);
        throw new AssertionError("no exception");
      } catch (CompletionException e) {
        expect(e.getCause() instanceof ArithmeticException, "cause " + e.getCause());
      }
      expect(delivered.equals(IntStream.range(0, 500).boxed().toList()), "earlier results first, " + delivered.size());
    }));

    checks.add(new Named("map-empty-inputs-and-one-iteration", () -> {
      expect(pool.map((Integer x) -> x, List.<Integer>of()).toList().isEmpty(), "an empty list");
      expect(pool.map((Integer x) -> x, Stream.<Integer>empty(), MapOptions.defaults()).toList().isEmpty(), "an empty stream");
      MapResults<Integer> results = pool.map((Integer x) -> x, List.of(1, 2, 3));
      results.iterator();
      fails(IllegalStateException.class, results::iterator, "a second iteration");
      results.close();
    }));

    checks.add(new Named("map-timeout-is-a-deadline-from-the-call", () -> {
      long start = System.nanoTime();
      MapResults<Integer> results = pool.map((Integer x) -> Programs.sleep(100),
          IntStream.range(0, 50).boxed().toList(), MapOptions.defaults().chunkSize(1).timeout(Duration.ofMillis(500)));
      List<Integer> delivered = new ArrayList<>();
      CompletionException e = fails(CompletionException.class, () -> results.forEach(delivered::add), "a missed deadline");
      expect(e.getCause() instanceof TimeoutException, "cause " + e.getCause());
      long millis = (System.nanoTime() - start) / 1_000_000;
      // 50 items of 100 ms take over a second on up to 3 workers: a per-item timeout would not fire.
      expect(millis < 5_000 && delivered.size() < 50, "the deadline counts from the call: " + millis + " ms, "
          + delivered.size() + " delivered");
      expectEveryWorkerFree(pool, workers, "after the deadline passed");
    }));

    checks.add(new Named("map-endless-input-within-max-in-flight", () -> {
      AtomicInteger produced = new AtomicInteger();
      Stream<Integer> naturals = Stream.iterate(0, x -> x + 1).peek(x -> produced.incrementAndGet());
      try (MapResults<Integer> results = pool.map((Integer x) -> x * x, naturals, MapOptions.defaults().maxInFlight(50))) {
        List<Integer> first = results.stream().limit(200).toList();
        expect(first.equals(IntStream.range(0, 200).map(x -> x * x).boxed().toList()), "the first 200 squares");
      }
      expect(produced.get() <= 200 + 50, "read " + produced.get() + " inputs for 200 results with a bound of 50");
    }));

    checks.add(new Named("map-closed-early-reads-no-more-input", () -> {
      AtomicInteger produced = new AtomicInteger();
      MapResults<Integer> results = pool.map((Integer x) -> Programs.sleep(x % 7 == 0 ? 30 : 1) * 0 + x,
          Stream.iterate(0, x -> x + 1).peek(x -> produced.incrementAndGet()).limit(10_000), MapOptions.defaults());
      Iterator<Integer> iterator = results.iterator();
      expect(iterator.next() == 0, "the first result");
      results.close();
      expect(!iterator.hasNext(), "no results after close()");
      int afterClose = produced.get();
      Thread.sleep(100);
      expect(produced.get() == afterClose, "no input is read after close()");
      expectEveryWorkerFree(pool, workers, "after a map was closed early");
    }));

    checks.add(new Named("map-abandoned-while-waiting-cancels-the-item-waited-for", () -> {
      // Item 0 runs for a minute; the caller gives up on it while waiting for it, three ways.
      List<Integer> inputs = IntStream.range(0, workers + 1).boxed().toList();
      SerializableFunction<Integer, Integer> slowFirst = x -> Programs.sleep(x == 0 ? 60_000 : 10);
      try {
        pool.map(slowFirst, inputs, MapOptions.defaults().chunkSize(1).timeout(Duration.ofMillis(500))).toList();
        throw new AssertionError("no timeout");
      } catch (CompletionException e) {
        expect(e.getCause() instanceof TimeoutException, "timed out: " + e.getCause());
      }
      expectEveryWorkerFree(pool, workers, "after a timeout");
      MapResults<Integer> interrupted = pool.map(slowFirst, inputs, MapOptions.defaults().chunkSize(1));
      Thread.sleep(200);
      Thread.currentThread().interrupt();
      try {
        interrupted.iterator().next();
        throw new AssertionError("no cancellation");
      } catch (CancellationException expected) {
        expect(Thread.interrupted(), "the interrupt stays set");
      }
      expectEveryWorkerFree(pool, workers, "after an interrupt");
      MapResults<Integer> closed = pool.map(slowFirst, inputs, MapOptions.defaults().chunkSize(1));
      Thread closer = new Thread(() -> {
        pause(300);
        closed.close();
      });
      closer.start();
      try {
        closed.toList();
      } catch (CompletionException | CancellationException expected) {
        // Closing from another thread ends the iteration one way or the other; it must not hang.
      }
      closer.join();
      expectEveryWorkerFree(pool, workers, "after close()");
    }));

    checks.add(new Named("many-threads", () -> {
      ExecutorService callers = Executors.newFixedThreadPool(6);
      try {
        List<Future<Boolean>> results = new ArrayList<>();
        for (int t = 0; t < 6; t++) {
          int base = t * 100_000;
          results.add(callers.submit(() -> {
            List<CompletableFuture<Integer>> futures = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
              futures.add(pool.submit((Integer x) -> x * 2, base + i));
            }
            List<Integer> mapped = pool.map((Integer x) -> x - base, List.of(base, base + 1, base + 2)).toList();
            for (int i = 0; i < 300; i++) {
              if (futures.get(i).get() != 2 * (base + i)) {
                return false;
              }
            }
            return mapped.equals(List.of(0, 1, 2));
          }));
        }
        for (Future<Boolean> result : results) {
          expect(result.get(), "every result reached its own future");
        }
      } finally {
        callers.shutdownNow();
      }
    }));

    checks.add(new Named("large-payload", () -> {
      byte[] payload = new byte[8 << 20];
      Arrays.fill(payload, (byte) 7);
      byte[] echoed = pool.submit((byte[] b) -> b, payload).get();
      expect(Arrays.equals(payload, echoed), "8 MiB echoed intact");
    }));

    checks.add(new Named("shutdown-now", () -> {
      List<CompletableFuture<Integer>> futures = new ArrayList<>();
      for (int i = 0; i < 20 * workers; i++) {
        futures.add(pool.submit(() -> Programs.sleep(60_000)));
      }
      Thread.sleep(500);
      List<Runnable> unstarted = pool.shutdownNow();
      expect(pool.awaitTermination(20, TimeUnit.SECONDS), "terminates");
      expect(unstarted.size() == 20 * workers - workers, "unstarted " + unstarted.size());
      for (CompletableFuture<Integer> future : futures) {
        expect(future.isDone(), "no future stays pending");
      }
      fails(RejectedExecutionException.class, () -> pool.submit(() -> 1), "a submission after shutdown");
      fails(RejectedExecutionException.class, () -> pool.map((Integer x) -> x, List.of(1)), "a map after shutdown");
      expect(futures.stream().filter(CompletableFuture::isCancelled).count() >= unstarted.size(), "cancelled");
      try {
        futures.get(futures.size() - 1).get();
      } catch (CancellationException expected) {
        // as required
      }
    }));

    return checks;
  }
}
