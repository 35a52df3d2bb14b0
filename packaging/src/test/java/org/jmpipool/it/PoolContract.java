package org.jmpipool.it;

import static org.jmpipool.it.Contract.expect;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.stream.IntStream;
import org.jmpipool.Args;
import org.jmpipool.AsyncResult;
import org.jmpipool.Backend;
import org.jmpipool.BrokenPoolException;
import org.jmpipool.Jmpipool;
import org.jmpipool.MapOptions;
import org.jmpipool.MapResults;
import org.jmpipool.MpiPool;
import org.jmpipool.MpiPoolExecutor;
import org.jmpipool.PoolBuilder;
import org.jmpipool.RemoteRef;
import org.jmpipool.TaskContext;
import org.jmpipool.WorkerComm;
import org.jmpipool.WorkerPool;
import org.jmpipool.it.Contract.Named;

/**
 * The contract of {@link MpiPool} (Python's {@code multiprocessing.Pool} semantics), of
 * {@link WorkerPool} (pyMOR's), and of what every pool offers (initializers, threads per worker,
 * per-task random numbers, parallel tasks, independent pools), as one list of checks for every
 * backend. Each check builds the pools it needs from the backend's builder, with two workers.
 * {@link #main} runs them in a launched job (three ranks).
 */
public final class PoolContract {

  /** Two tasks meet here only if they run at the same time in one JVM. */
  private static final CyclicBarrier PAIR = new CyclicBarrier(2);

  private PoolContract() {
  }

  /** Runs the checks on pools of the launched job's ranks. */
  public static void main(String[] args) {
    Contract.runAll(checks(() -> Jmpipool.builder().backend(Backend.MPI)));
  }

  static int square(int x) {
    return x * x;
  }

  static int failOn13(int x) {
    if (x == 13) {
      throw new IllegalArgumentException("unlucky " + x);
    }
    return x;
  }

  static int slowly(int x) {
    Programs.sleep(300);
    return x;
  }

  static String meetInPairs() throws Exception {
    PAIR.await(20, TimeUnit.SECONDS);
    return TaskContext.current().workerIndex() + "@" + Thread.currentThread().getName();
  }

  static String collectives() {
    WorkerComm comm = TaskContext.current().workerComm();
    comm.barrier();
    int sum = comm.allReduce(comm.rank() + 1, Integer::sum);
    String fromRoot = comm.broadcast("root-" + comm.rank(), 0);
    List<Integer> ranks = comm.allGather(comm.rank());
    return sum + ":" + fromRoot + ":" + ranks + ":" + comm.size();
  }

  static <T> T failsWith(Class<? extends Throwable> type, Contract.Check call, String what) {
    try {
      call.run();
    } catch (Throwable thrown) {
      Throwable seen = thrown;
      while (seen != null && !type.isInstance(seen)) {
        seen = seen.getCause();
      }
      expect(seen != null, what + ": expected " + type.getSimpleName() + ", got " + thrown);
      @SuppressWarnings("unchecked")
      T found = (T) seen;
      return found;
    }
    throw new AssertionError(what + ": no exception");
  }

  /**
   * Returns the checks.
   *
   * @param backend makes a builder of the backend under test
   */
  static List<Named> checks(Supplier<PoolBuilder> backend) {
    Supplier<MpiPool> twoWorkers = () -> backend.get().workers(2).buildPool();
    List<Named> checks = new ArrayList<>();
    List<Integer> hundred = IntStream.range(0, 100).boxed().toList();
    List<Integer> squares = hundred.stream().map(PoolContract::square).toList();

    checks.add(new Named("pool-apply-and-async-results", () -> {
      try (MpiPool pool = twoWorkers.get()) {
        expect(pool.processes() == 2, "processes " + pool.processes());
        expect(pool.apply(() -> 6 * 7) == 42, "apply callable");
        expect(pool.apply(PoolContract::square, 9) == 81, "apply function");
        AtomicReference<Object> called = new AtomicReference<>();
        AsyncResult<Integer> ok = pool.applyAsync(PoolContract::square, 5, called::set, called::set);
        expect(ok.get() == 25 && ok.ready() && ok.successful() && Integer.valueOf(25).equals(called.get()), "async");
        AsyncResult<Integer> bad = pool.applyAsync(PoolContract::failOn13, 13, called::set, called::set);
        expect(bad.await(Duration.ofSeconds(30)) && !bad.successful(), "failed call is ready and unsuccessful");
        ExecutionException failure = failsWith(ExecutionException.class, bad::get, "get of a failed call");
        expect(failure.getCause() instanceof IllegalArgumentException && called.get() == failure.getCause()
            || called.get() instanceof IllegalArgumentException, "error callback got " + called.get());
        AsyncResult<Integer> slow = pool.applyAsync(PoolContract::slowly, 1);
        failsWith(IllegalStateException.class, slow::successful, "successful() before ready");
        failsWith(java.util.concurrent.TimeoutException.class, () -> slow.get(Duration.ofMillis(10)), "timeout");
        expect(slow.get(Duration.ofSeconds(30)) == 1, "slow value");
        CompletionException thrown = failsWith(CompletionException.class, () -> pool.apply(PoolContract::failOn13, 13),
            "apply of a failing call");
        expect(thrown.getCause() instanceof IllegalArgumentException, "cause " + thrown.getCause());
      }
    }));

    checks.add(new Named("pool-map-variants-and-chunk-sizes", () -> {
      try (MpiPool pool = twoWorkers.get()) {
        expect(pool.map(PoolContract::square, hundred).equals(squares), "map, default chunks");
        for (int chunk : new int[] {1, 7, 100, 1000}) {
          expect(pool.map(PoolContract::square, hundred, chunk).equals(squares), "map, chunk " + chunk);
          expect(pool.mapAsync(PoolContract::square, hundred, chunk).get().equals(squares), "mapAsync, chunk " + chunk);
          try (MapResults<Integer> lazy = pool.imap(PoolContract::square, hundred, chunk)) {
            expect(lazy.toList().equals(squares), "imap, chunk " + chunk);
          }
          try (MapResults<Integer> unordered = pool.imapUnordered(PoolContract::square, hundred, chunk)) {
            List<Integer> sorted = new ArrayList<>(unordered.toList());
            Collections.sort(sorted);
            expect(sorted.equals(squares), "imapUnordered, chunk " + chunk);
          }
        }
        AtomicReference<List<Integer>> delivered = new AtomicReference<>();
        AsyncResult<List<Integer>> withCallback = pool.mapAsync(PoolContract::square, hundred, 0, delivered::set, null);
        expect(withCallback.get().equals(squares) && squares.equals(delivered.get()), "mapAsync callback");
        AsyncResult<List<Integer>> failing = pool.mapAsync(PoolContract::failOn13, hundred);
        ExecutionException failure = failsWith(ExecutionException.class, failing::get, "mapAsync with a failing item");
        expect(failure.getCause().getMessage().contains("unlucky 13") && !failing.successful(), "cause " + failure.getCause());
        try (MapResults<Integer> lazy = pool.imap(PoolContract::failOn13, hundred, 5)) {
          List<Integer> before = new ArrayList<>();
          failsWith(IllegalArgumentException.class, () -> lazy.forEach(before::add), "imap with a failing item");
          expect(before.equals(hundred.subList(0, 13)), "earlier results delivered first: " + before);
        }
      }
    }));

    checks.add(new Named("pool-starmap-variants", () -> {
      List<Args.Two<Integer, Integer>> pairs = IntStream.range(0, 30).mapToObj(i -> Args.of(i, 2 * i)).toList();
      List<Integer> sums = IntStream.range(0, 30).map(i -> 3 * i).boxed().toList();
      try (MpiPool pool = twoWorkers.get()) {
        expect(pool.starmap(Integer::sum, pairs).equals(sums), "starmap");
        expect(pool.starmapAsync(Integer::sum, pairs).get().equals(sums), "starmapAsync");
        try (MapResults<Integer> lazy = pool.istarmap(Integer::sum, pairs)) {
          expect(lazy.toList().equals(sums), "istarmap");
        }
        try (MapResults<Integer> unordered = pool.istarmapUnordered(Integer::sum, pairs)) {
          expect(new HashSet<>(unordered.toList()).equals(new HashSet<>(sums)), "istarmapUnordered");
        }
        List<Args.Three<String, Integer, Character>> triples = List.of(Args.of("a", 2, '!'), Args.of("b", 3, '?'));
        expect(pool.starmap3((String s, Integer n, Character c) -> s.repeat(n) + c, triples).equals(List.of("aa!", "bbb?")),
            "starmap3");
        expect(pool.starmap3Async((String s, Integer n, Character c) -> s + n + c, triples).get()
            .equals(List.of("a2!", "b3?")), "starmap3Async");
        try (MapResults<String> lazy = pool.istarmap3((String s, Integer n, Character c) -> s + c, triples)) {
          expect(lazy.toList().equals(List.of("a!", "b?")), "istarmap3");
        }
      }
    }));

    checks.add(new Named("pool-empty-inputs-and-invalid-arguments", () -> {
      List<Integer> none = List.of();
      List<Args.Two<Integer, Integer>> noPairs = List.of();
      try (MpiPool pool = twoWorkers.get()) {
        expect(pool.map(PoolContract::square, none).isEmpty(), "map");
        expect(pool.map(PoolContract::square, none, 3).isEmpty(), "map with chunk size");
        AsyncResult<List<Integer>> async = pool.mapAsync(PoolContract::square, none);
        expect(async.ready() && async.successful() && async.get().isEmpty(), "mapAsync");
        try (MapResults<Integer> lazy = pool.imap(PoolContract::square, none)) {
          expect(!lazy.iterator().hasNext(), "imap");
        }
        try (MapResults<Integer> lazy = pool.imapUnordered(PoolContract::square, none, 2)) {
          expect(!lazy.iterator().hasNext(), "imapUnordered");
        }
        expect(pool.starmap(Integer::sum, noPairs).isEmpty(), "starmap");
        expect(pool.starmapAsync(Integer::sum, noPairs).get().isEmpty(), "starmapAsync");
        try (MapResults<Integer> lazy = pool.istarmap(Integer::sum, noPairs)) {
          expect(!lazy.iterator().hasNext(), "istarmap");
        }
        try (MapResults<Integer> lazy = pool.istarmapUnordered(Integer::sum, noPairs)) {
          expect(!lazy.iterator().hasNext(), "istarmapUnordered");
        }
        IllegalArgumentException chunk = failsWith(IllegalArgumentException.class,
            () -> pool.map(PoolContract::square, hundred, 0), "chunk size 0");
        expect(chunk.getMessage().contains("chunk size must be at least 1"), chunk.getMessage());
        failsWith(IllegalArgumentException.class, () -> pool.imap(PoolContract::square, hundred, -1), "imap chunk -1");
        failsWith(IllegalArgumentException.class, () -> pool.mapAsync(PoolContract::square, hundred, 0), "mapAsync 0");
        NullPointerException nullFunction = failsWith(NullPointerException.class,
            () -> pool.map(null, hundred), "null function");
        expect(nullFunction.getMessage().contains("function"), nullFunction.getMessage());
        failsWith(NullPointerException.class, () -> pool.applyAsync(null, 1), "null function in applyAsync");
        failsWith(NullPointerException.class, () -> pool.starmap(null, noPairs), "null function in starmap");
      }
      IllegalArgumentException processes = failsWith(IllegalArgumentException.class,
          () -> backend.get().workers(0), "processes 0");
      expect(processes.getMessage().contains("at least 1"), processes.getMessage());
      failsWith(IllegalArgumentException.class, () -> Jmpipool.pool(0), "Jmpipool.pool(0)");
    }));

    checks.add(new Named("pool-terminate-close-join", () -> {
      MpiPool pool = twoWorkers.get();
      failsWith(IllegalStateException.class, pool::join, "join before close");
      List<AsyncResult<Integer>> results = new ArrayList<>();
      for (int i = 0; i < 12; i++) {
        results.add(pool.applyAsync(PoolContract::slowly, i));
      }
      pool.terminate();
      expect(results.stream().allMatch(AsyncResult::ready), "every result is ready after terminate");
      long unsuccessful = results.stream().filter(result -> !result.successful()).count();
      expect(unsuccessful >= 8, "queued results are unsuccessful: " + unsuccessful);
      failsWith(CancellationException.class, () -> results.get(11).get(), "a queued call");
      failsWith(RejectedExecutionException.class, () -> pool.applyAsync(PoolContract::square, 1), "after terminate");
      pool.join();
      MpiPool closing = twoWorkers.get();
      AsyncResult<List<Integer>> pending = closing.mapAsync(PoolContract::slowly, List.of(1, 2, 3, 4));
      closing.close();
      expect(pending.ready() && pending.successful(), "close waits for the outstanding work");
      closing.join();
      failsWith(RejectedExecutionException.class, () -> closing.apply(() -> 1), "after close");
    }));

    checks.add(new Named("initializer-state-once-per-worker", () -> {
      try (MpiPool pool = backend.get().workers(2).initializer(prefix -> prefix + "-" + UUID.randomUUID(), "state")
          .buildPool()) {
        List<String> seen = pool.map(i -> {
          Programs.sleep(10);
          return TaskContext.current().workerIndex() + "=" + TaskContext.current().workerState();
        }, IntStream.range(0, 40).boxed().toList(), 1);
        Map<String, Set<String>> statesByWorker = new HashMap<>();
        for (String entry : seen) {
          String[] parts = entry.split("=", 2);
          expect(parts[1].startsWith("state-"), "state " + parts[1]);
          statesByWorker.computeIfAbsent(parts[0], w -> new HashSet<>()).add(parts[1]);
        }
        expect(statesByWorker.size() == 2, "both workers ran tasks: " + statesByWorker.keySet());
        expect(statesByWorker.values().stream().allMatch(states -> states.size() == 1), "one state per worker");
      }
    }));

    checks.add(new Named("failing-initializer-breaks-the-pool", () -> {
      MpiPoolExecutor pool = backend.get().workers(2).initializer(() -> {
        if (TaskContext.current().workerIndex() == 1) {
          throw new IllegalStateException("no model file");
        }
        Programs.sleep(500);
      }).build();
      // The failure may arrive while the tasks are being submitted: a task submitted before fails,
      // one submitted after is refused; both say why.
      List<CompletableFuture<Integer>> futures = new ArrayList<>();
      List<BrokenPoolException> failures = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        try {
          futures.add(pool.submit(PoolContract::square, i));
        } catch (BrokenPoolException refused) {
          failures.add(refused);
        }
      }
      for (CompletableFuture<Integer> future : futures) {
        failures.add(failsWith(BrokenPoolException.class, future::get, "a pending task"));
      }
      for (BrokenPoolException broken : failures) {
        expect(broken.getMessage().contains("initializer failed on worker rank " + broken.workerRank())
            && broken.getMessage().contains("no model file"), broken.getMessage());
        expect(broken.getCause() != null && broken.getCause().getMessage().contains("no model file"), "cause");
      }
      expect(pool.workers() == 0, "workers() reads 0 once broken");
      failsWith(BrokenPoolException.class, () -> pool.submit(() -> 1), "a later submission");
      pool.shutdown();
      expect(pool.awaitTermination(30, TimeUnit.SECONDS), "a broken pool still terminates");
    }));

    checks.add(new Named("independent-pools-used-concurrently", () -> {
      try (MpiPool doubling = twoWorkers.get(); MpiPool tripling = twoWorkers.get()) {
        List<Integer> inputs = IntStream.range(0, 2000).boxed().toList();
        CompletableFuture<List<Integer>> doubled = CompletableFuture.supplyAsync(
            () -> doubling.map(x -> 2 * x, inputs, 3));
        CompletableFuture<List<Integer>> tripled = CompletableFuture.supplyAsync(
            () -> tripling.map(x -> 3 * x, inputs, 5));
        expect(doubled.get(60, TimeUnit.SECONDS).equals(inputs.stream().map(x -> 2 * x).toList()), "first pool");
        expect(tripled.get(60, TimeUnit.SECONDS).equals(inputs.stream().map(x -> 3 * x).toList()), "second pool");
        tripling.terminate();
        expect(doubling.apply(() -> 5) == 5, "terminating one pool leaves the other working");
      }
    }));

    checks.add(new Named("threads-per-worker", () -> {
      try (MpiPool pool = backend.get().workers(1).threadsPerWorker(2).buildPool()) {
        AsyncResult<String> first = pool.applyAsync(PoolContract::meetInPairs);
        AsyncResult<String> second = pool.applyAsync(PoolContract::meetInPairs);
        String a = first.get(Duration.ofSeconds(60));
        String b = second.get(Duration.ofSeconds(60));
        expect(a.startsWith("0@") && b.startsWith("0@") && !a.equals(b), "two threads of worker 0 at once: " + a + ", " + b);
      }
    }));

    checks.add(new Named("random-numbers-follow-seed-and-index", () -> {
      List<Integer> inputs = IntStream.range(0, 60).boxed().toList();
      try (MpiPool pool = backend.get().workers(2).seed(2024).buildPool();
          MpiPool other = backend.get().workers(2).seed(2024).buildPool()) {
        List<Long> oneByOne = pool.map(i -> TaskContext.current().random().nextLong(), inputs, 1);
        List<Long> chunked = other.map(i -> TaskContext.current().random().nextLong(), inputs, 13);
        expect(oneByOne.equals(chunked), "same numbers however chunked and scheduled");
        expect(new HashSet<>(oneByOne).size() == inputs.size(), "every item draws its own numbers");
        MpiPoolExecutor executor = pool.executor();
        List<Long> seeded;
        try (MapResults<Long> results = executor.map(i -> TaskContext.current().random().nextLong(), inputs,
            MapOptions.defaults().seed(7).chunkSize(4))) {
          seeded = results.toList();
        }
        try (MapResults<Long> results = other.executor().map(i -> TaskContext.current().random().nextLong(), inputs,
            MapOptions.defaults().seed(7).unordered())) {
          expect(new HashSet<>(results.toList()).equals(new HashSet<>(seeded)), "map seed wins over the pool's");
        }
        expect(!seeded.equals(oneByOne), "another seed, other numbers");
      }
    }));

    checks.add(new Named("parallel-tasks-share-a-communicator", () -> {
      try (WorkerPool pool = backend.get().workers(2).buildWorkerPool()) {
        List<String> results = pool.applyAll(PoolContract::collectives);
        expect(results.equals(List.of("3:root-0:[0, 1]:2", "3:root-0:[0, 1]:2")), "collectives: " + results);
        expect(pool.applyAll(PoolContract::collectives).equals(results), "a second group");
        ExecutionException alone = failsWith(ExecutionException.class, () -> pool.executor().submit(() ->
            TaskContext.current().workerComm(Duration.ofSeconds(2)).size()).get(), "one parallel task of two");
        expect(alone.getCause() instanceof IllegalStateException
            && alone.getCause().getMessage().contains("did not join")
            && alone.getCause().getMessage().contains("exactly workers() tasks"), "message: " + alone.getCause());
        expect(pool.applyAll(PoolContract::collectives).equals(results), "the pool recovers for the next group");
      }
    }));

    checks.add(new Named("parallel-task-groups-form-every-time", () -> {
      // The README's rule: workers() tasks at once, nothing else in flight. Tasks that end at
      // once (no collective) leave before a slower peer looks for them: they still count.
      try (MpiPool pool = twoWorkers.get()) {
        MpiPoolExecutor executor = pool.executor();
        for (int round = 0; round < 40; round++) {
          boolean withCollective = round % 2 == 1;
          List<CompletableFuture<Integer>> group = new ArrayList<>();
          for (int i = 0; i < executor.workers(); i++) {
            group.add(executor.submit(() -> {
              WorkerComm comm = TaskContext.current().workerComm(Duration.ofSeconds(10));
              return withCollective ? comm.allReduce(1, Integer::sum) : comm.size();
            }));
          }
          for (CompletableFuture<Integer> member : group) {
            expect(member.get(30, TimeUnit.SECONDS) == 2, "round " + round + ": a group of 2");
          }
        }
      }
    }));

    checks.add(new Named("worker-pool-push-scatter-apply", () -> {
      try (WorkerPool pool = backend.get().workers(2).buildWorkerPool()) {
        List<String> model = new ArrayList<>(List.of("alpha", "beta", "gamma"));
        try (RemoteRef<List<String>> pushed = pool.push(model)) {
          expect(pool.applyAll(List::size, pushed).equals(List.of(3, 3)), "every worker has the object");
          try (RemoteRef<List<String>> again = pool.push(model)) {
            expect(again.id() == pushed.id(), "pushing the same unchanged object reuses it");
          }
          model.add("delta");
          try (RemoteRef<List<String>> changed = pool.push(model)) {
            expect(changed.id() != pushed.id() && pool.applyAll(List::size, changed).equals(List.of(4, 4)), "changed");
          }
          expect(pool.applyOn(1, (List<String> m) -> m.get(0) + TaskContext.current().workerIndex(), pushed)
              .equals("alpha1"), "applyOn runs on the chosen worker");
          expect(pool.map((List<String> m, Integer i) -> m.get(i), pushed, List.of(2, 0, 1))
              .equals(List.of("gamma", "alpha", "beta")), "map with a stored object");
          expect(pool.applyAll(() -> TaskContext.current().workerIndex()).equals(List.of(0, 1)), "worker order");
        }
        try (RemoteRef<List<Integer>> parts = pool.scatter(IntStream.range(0, 11).boxed().toList())) {
          List<List<Integer>> seen = pool.applyAll(List::copyOf, parts);
          expect(seen.equals(List.of(IntStream.range(0, 5).boxed().toList(), IntStream.range(5, 11).boxed().toList())),
              "contiguous parts in worker order: " + seen);
        }
        try (RemoteRef<List<Integer>> parts = pool.scatter(List.of())) {
          expect(pool.applyAll(List::size, parts).equals(List.of(0, 0)), "an empty list scatters into empty parts");
        }
        expect(pool.map(PoolContract::square, List.<Integer>of()).isEmpty(), "map of nothing");
      }
    }));

    checks.add(new Named("worker-pool-failures-and-freed-refs", () -> {
      try (WorkerPool pool = backend.get().workers(2).buildWorkerPool()) {
        CompletionException failure = failsWith(CompletionException.class, () -> pool.applyAll(() -> {
          if (TaskContext.current().workerIndex() == 1) {
            throw new IllegalStateException("worker one fails");
          }
          return "fine";
        }), "applyAll with a failing worker");
        expect(failure.getMessage().contains("worker 1 (rank ") && failure.getCause().getMessage().contains("worker one"),
            failure.getMessage());
        expect(pool.applyAll(() -> TaskContext.current().workerIndex()).equals(List.of(0, 1)),
            "the next call gets its own results");
        RemoteRef<String> ref = pool.push("payload");
        ref.close();
        expect(ref.isClosed(), "closed");
        IllegalStateException afterFree = failsWith(IllegalStateException.class,
            () -> pool.applyAll(String::length, ref), "use after free");
        expect(afterFree.getMessage().contains("was closed"), afterFree.getMessage());
        failsWith(IllegalStateException.class, ref::get, "get() outside a task");
        try (WorkerPool other = backend.get().workers(2).buildWorkerPool(); RemoteRef<String> foreign = other.push("x")) {
          IllegalStateException wrongPool = failsWith(IllegalStateException.class,
              () -> pool.applyOn(0, String::length, foreign), "a ref of another pool");
          expect(wrongPool.getMessage().contains("WorkerPool that stored it"), wrongPool.getMessage());
        }
      }
    }));
    return checks;
  }
}
