package org.jmpipool.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;
import org.jmpipool.Jmpipool;
import org.jmpipool.MapOptions;
import org.jmpipool.MapResults;
import org.jmpipool.MpiPoolExecutor;

/**
 * The anchor workloads W1-W4 of the peer benchmark (shared/bench/mpi4py_futures_bench.py), with
 * the same counts, sizes and chunk sizes, printing one line per workload in the same format.
 * The workloads first run {@link #WARM_UP_PASSES} times unmeasured, so that every rank's JIT has
 * compiled the paths they measure (W3 runs only 300 tasks a pass, too few for one pass to do
 * it), and every rank collects its garbage before each workload, so that one workload's garbage
 * (W3 leaves hundreds of megabytes) is not collected inside the next one's time.
 *
 * <pre>bin/jmpipool -n 3 org.jmpipool.bench.AnchorWorkloads</pre>
 *
 * <p>The Python CPU-bound task is 200,000 iterations of a loop, about 12 ms; the Java loop is
 * calibrated here to the same 12 ms.
 */
public final class AnchorWorkloads {

  private static final long TARGET_TASK_NANOS = 12_000_000;
  /** Unmeasured passes over the workloads before the measured one ({@code -Djmpipool.bench.warmUps=N}). */
  private static final int WARM_UP_PASSES = Integer.getInteger("jmpipool.bench.warmUps", 3);

  private AnchorWorkloads() {
  }

  static Integer ident(Integer x) {
    return x;
  }

  static byte[] echo(byte[] payload) {
    return payload;
  }

  /** Deterministic CPU work: {@code iterations} steps of integer arithmetic. */
  static long spin(long iterations) {
    long acc = 0;
    for (long i = 0; i < iterations; i++) {
      acc = (acc * 31 + i) & 0xFFFFFFFFL;
    }
    return acc;
  }

  /**
   * Runs the workloads.
   *
   * @param args the workloads to run (W1 W2 W3 W4), all when none is named
   * @throws Exception when a workload fails
   */
  public static void main(String[] args) throws Exception {
    List<String> selected = args.length == 0 ? List.of("W1", "W2", "W3", "W4") : List.of(args);
    MpiPoolExecutor pool = Jmpipool.executor();
    long work = calibrateSpin();
    list(pool.map(AnchorWorkloads::ident, range(2000)));
    for (int pass = 0; pass <= WARM_UP_PASSES; pass++) {
      boolean measured = pass == WARM_UP_PASSES;
      if (selected.contains("W1")) {
        collectGarbage(pool);
        latency(pool, measured);
      }
      if (selected.contains("W2")) {
        collectGarbage(pool);
        tinyTasks(pool, measured);
        collectGarbage(pool);
        submitMany(pool, measured);
      }
      if (selected.contains("W3")) {
        collectGarbage(pool);
        payload(pool, measured);
      }
      if (selected.contains("W4")) {
        collectGarbage(pool);
        cpuBound(pool, work, measured);
      }
    }
    System.out.printf("worker_rss %.0f MB%n", pool.submit(AnchorWorkloads::residentMegabytes).get());
  }

  private static void latency(MpiPoolExecutor pool, boolean measured) throws Exception {
    int n = 2000;
    long start = System.nanoTime();
    for (int i = 0; i < n; i++) {
      pool.submit(AnchorWorkloads::ident, i).get();
    }
    report(measured, "W1_latency_roundtrip %.1f us", (System.nanoTime() - start) / 1e3 / n);
  }

  private static void tinyTasks(MpiPoolExecutor pool, boolean measured) {
    int n = 100_000;
    long start = System.nanoTime();
    List<Integer> results = list(pool.map(AnchorWorkloads::ident, range(n)));
    check(results.get(n - 1) == n - 1 && results.size() == n, "W2a");
    report(measured, "W2a_tiny_tasks_chunk1 %.0f tasks/s", n / seconds(start));

    n = 1_000_000;
    start = System.nanoTime();
    results = list(pool.map(AnchorWorkloads::ident, range(n), MapOptions.defaults().chunkSize(256)));
    check(results.get(n - 1) == n - 1 && results.size() == n, "W2b");
    report(measured, "W2b_tiny_tasks_chunk256 %.0f tasks/s", n / seconds(start));
  }

  private static void submitMany(MpiPoolExecutor pool, boolean measured) throws Exception {
    int n = 20_000;
    long start = System.nanoTime();
    List<CompletableFuture<Integer>> futures = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      futures.add(pool.submit(AnchorWorkloads::ident, i));
    }
    int last = 0;
    for (CompletableFuture<Integer> future : futures) {
      last = future.get();
    }
    check(last == n - 1, "W2c");
    report(measured, "W2c_submit_many %.0f tasks/s", n / seconds(start));
  }

  private static void payload(MpiPoolExecutor pool, boolean measured) throws Exception {
    byte[] payload = new byte[1 << 20];
    int n = 300;
    long start = System.nanoTime();
    List<CompletableFuture<byte[]>> futures = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      futures.add(pool.submit(AnchorWorkloads::echo, payload));
    }
    for (CompletableFuture<byte[]> future : futures) {
      check(future.get().length == payload.length, "W3");
    }
    report(measured, "W3_payload_1MiB_echo %.0f MB/s", 2.0 * n * payload.length / seconds(start) / 1e6);
  }

  private static void cpuBound(MpiPoolExecutor pool, long work, boolean measured) {
    int tasks = 64;
    long start = System.nanoTime();
    for (int i = 0; i < tasks; i++) {
      spin(work);
    }
    double serial = seconds(start);
    start = System.nanoTime();
    List<Long> results = list(pool.map(AnchorWorkloads::spin, Collections.nCopies(tasks, work)));
    double parallel = seconds(start);
    check(results.size() == tasks, "W4");
    report(measured, "W4_cpu_bound_speedup %.2f x (workers=%d, task=%.1f ms)",
        serial / parallel, pool.workers(), serial / tasks * 1e3);
  }

  /** Runs a collection on the master and on every worker (one task each: they are handed out evenly). */
  private static void collectGarbage(MpiPoolExecutor pool) throws Exception {
    List<CompletableFuture<?>> collections = new ArrayList<>();
    for (int i = 0; i < pool.workers(); i++) {
      collections.add(pool.submit(() -> {
        Thread.sleep(100);
        System.gc();
        return null;
      }));
    }
    System.gc();
    for (CompletableFuture<?> collection : collections) {
      collection.get();
    }
  }

  /** Finds the iteration count of {@link #spin} that takes about 12 ms here, after warming it up. */
  private static long calibrateSpin() {
    long iterations = 1_000_000;
    for (int round = 0; round < 20; round++) {
      spin(iterations);
    }
    long start = System.nanoTime();
    spin(iterations * 10);
    double nanosPerIteration = (System.nanoTime() - start) / (iterations * 10.0);
    return (long) (TARGET_TASK_NANOS / nanosPerIteration);
  }

  static double residentMegabytes() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
      }
    }
    return Double.NaN;
  }

  private static List<Integer> range(int n) {
    return IntStream.range(0, n).boxed().toList();
  }

  private static <R> List<R> list(MapResults<R> results) {
    return results.toList();
  }

  private static double seconds(long start) {
    return (System.nanoTime() - start) / 1e9;
  }

  private static void check(boolean condition, String workload) {
    if (!condition) {
      throw new IllegalStateException(workload + " returned wrong results");
    }
  }

  private static void report(boolean measured, String format, Object... values) {
    if (measured) {
      System.out.printf(format + "%n", values);
      System.out.flush();
    }
  }
}
