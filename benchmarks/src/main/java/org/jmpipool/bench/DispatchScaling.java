package org.jmpipool.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;
import org.jmpipool.Backend;
import org.jmpipool.Jmpipool;
import org.jmpipool.MapOptions;
import org.jmpipool.MpiPoolExecutor;

/**
 * Whether the master's cost per task grows with the number of workers: tiny tasks handed out one
 * by one (futures submitted in a window of {@link #WINDOW_PER_WORKER} per worker, and a map with
 * chunks of one), timed, with the CPU time
 * the master's communication thread spent per task. Run in a launched job, it measures the job's
 * workers; run with plain {@code java}, local pools of the sizes given (8, 64 and 512 by default).
 *
 * <pre>
 * bin/jmpipool -n 17 org.jmpipool.bench.DispatchScaling
 * java -cp 'packaging/target/jmpipool/lib/*' org.jmpipool.bench.DispatchScaling 8 64 512
 * </pre>
 *
 * <p>Each measurement runs {@link #ROUNDS} times after {@link #WARM_UP_ROUNDS} unmeasured ones;
 * the median round is printed.
 */
public final class DispatchScaling {

  private static final int TASKS = 100_000;
  /** Futures outstanding at once, per worker: the same load on each worker, however many there are. */
  private static final int WINDOW_PER_WORKER = 64;
  private static final int WARM_UP_ROUNDS = 3;
  private static final int ROUNDS = 5;

  private DispatchScaling() {
  }

  /**
   * Runs the measurements.
   *
   * @param args the sizes of the local pools to measure, when not in a launched job
   * @throws Exception when a task fails
   */
  public static void main(String[] args) throws Exception {
    if (Jmpipool.defaultBackend() == Backend.MPI) {
      measure(Jmpipool.executor(), "jmpipool-comm");
      return;
    }
    int[] sizes = args.length == 0 ? new int[] {8, 64, 512} : Arrays.stream(args).mapToInt(Integer::parseInt).toArray();
    for (int workers : sizes) {
      try (MpiPoolExecutor pool = Jmpipool.local(workers)) {
        measure(pool, "jmpipool-local-master");
      }
    }
  }

  private static void measure(MpiPoolExecutor pool, String masterThreadName) throws Exception {
    long masterThread = threadId(masterThreadName);
    double[][] rounds = new double[ROUNDS][];
    for (int round = -WARM_UP_ROUNDS; round < ROUNDS; round++) {
      double[] measured = new double[4];
      long cpu = cpuNanos(masterThread);
      long start = System.nanoTime();
      submitInWindow(pool);
      measured[0] = TASKS / seconds(start);
      measured[1] = (cpuNanos(masterThread) - cpu) / (double) TASKS;
      cpu = cpuNanos(masterThread);
      start = System.nanoTime();
      List<Integer> results = pool.map(DispatchScaling::ident, IntStream.range(0, TASKS).boxed().toList(),
          MapOptions.defaults().chunkSize(1)).toList();
      measured[2] = TASKS / seconds(start);
      measured[3] = (cpuNanos(masterThread) - cpu) / (double) TASKS;
      if (results.size() != TASKS || results.get(TASKS - 1) != TASKS - 1) {
        throw new IllegalStateException("wrong results of the map");
      }
      if (round >= 0) {
        rounds[round] = measured;
      }
    }
    System.out.printf("workers %d: futures %.0f tasks/s, master %.2f us/task; map chunk 1 %.0f tasks/s,"
        + " master %.2f us/task%n", pool.workers(), median(rounds, 0), median(rounds, 1) / 1e3, median(rounds, 2),
        median(rounds, 3) / 1e3);
  }

  static Integer ident(Integer x) {
    return x;
  }

  private static void submitInWindow(MpiPoolExecutor pool) throws Exception {
    int size = WINDOW_PER_WORKER * pool.workers();
    List<CompletableFuture<Integer>> window = new ArrayList<>(size);
    for (int i = 0; i < TASKS; i++) {
      if (window.size() == size) {
        for (CompletableFuture<Integer> future : window) {
          future.get();
        }
        window.clear();
      }
      window.add(pool.submit(DispatchScaling::ident, i));
    }
    for (CompletableFuture<Integer> future : window) {
      future.get();
    }
  }

  private static long threadId(String name) {
    for (ThreadInfo info : ManagementFactory.getThreadMXBean().dumpAllThreads(false, false)) {
      if (info.getThreadName().equals(name)) {
        return info.getThreadId();
      }
    }
    throw new IllegalStateException("no thread named " + name);
  }

  private static long cpuNanos(long threadId) {
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    return threads.getThreadCpuTime(threadId);
  }

  private static double median(double[][] rounds, int column) {
    double[] values = Arrays.stream(rounds).mapToDouble(round -> round[column]).sorted().toArray();
    return values[values.length / 2];
  }

  private static double seconds(long start) {
    return (System.nanoTime() - start) / 1e9;
  }
}
