package org.jmpipool.it;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jmpipool.Jmpipool;
import org.jmpipool.MpiPoolExecutor;
import org.jmpipool.PoolApplication;
import org.jmpipool.TaskContext;

/** Small programs the integration tests launch, one behaviour each. */
final class Programs {

  private Programs() {
  }

  static int sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      throw new IllegalStateException("interrupted", e);
    }
    return TaskContext.current().rank();
  }

  /** One program for every backend: no rank checks, no launcher-specific code. */
  public static final class Embedded {
    public static void main(String[] args) {
      List<Integer> squares = Jmpipool.map((Integer x) -> x * x, List.of(1, 2, 3, 4, 5));
      System.out.println("squares " + squares + " on " + Jmpipool.executor().workers() + " workers, backend "
          + Jmpipool.defaultBackend() + ", rank " + Jmpipool.rank() + " of " + Jmpipool.size());
    }
  }

  /** Prints its arguments, one per line, between markers. */
  public static final class EchoArguments {
    public static void main(String[] args) {
      System.out.println("<args>");
      for (String arg : args) {
        System.out.println(arg);
      }
      System.out.println("</args>");
    }
  }

  /** Two tasks on the job's executor that can only finish if one worker rank runs them at once. */
  public static final class ThreadsPerRank {
    private static final java.util.concurrent.CyclicBarrier PAIR = new java.util.concurrent.CyclicBarrier(2);

    static String meet() throws Exception {
      PAIR.await(30, TimeUnit.SECONDS);
      return TaskContext.current().rank() + " " + Thread.currentThread().getName();
    }

    public static void main(String[] args) throws Exception {
      MpiPoolExecutor pool = Jmpipool.executor();
      CompletableFuture<String> first = pool.submit(ThreadsPerRank::meet);
      CompletableFuture<String> second = pool.submit(ThreadsPerRank::meet);
      String a = first.get(60, TimeUnit.SECONDS);
      String b = second.get(60, TimeUnit.SECONDS);
      if (pool.workers() == 1 && a.startsWith("1 ") && b.startsWith("1 ") && !a.equals(b)) {
        System.out.println(pool.workers() + " worker rank ran 2 tasks at once on threads (" + a + "; " + b + ")");
      }
    }
  }

  /**
   * Keeps every worker busy with a long task and queues many more, then waits for them all: a
   * job for the scheduler to end with a signal.
   */
  public static final class BusyUntilSignalled {
    public static void main(String[] args) throws Exception {
      MpiPoolExecutor pool = Jmpipool.executor();
      List<CompletableFuture<Integer>> futures = new ArrayList<>();
      for (int i = 0; i < pool.workers(); i++) {
        futures.add(pool.submit(() -> sleep(3_000)));
      }
      for (int i = 0; i < 40; i++) {
        futures.add(pool.submit(() -> sleep(60_000)));
      }
      Thread.sleep(500);
      System.out.println("submitted " + futures.size() + " tasks");
      for (CompletableFuture<Integer> future : futures) {
        try {
          future.get();
        } catch (java.util.concurrent.CancellationException e) {
          System.out.println("cancelled: " + e.getMessage());
          System.out.flush();
          throw e;
        }
      }
      System.out.println("all tasks done, unexpectedly");
    }
  }

  /** A PoolApplication: gets the pool as an argument. */
  public static final class Application implements PoolApplication {
    @Override
    public void run(MpiPoolExecutor pool, String[] args) throws Exception {
      int rank = pool.submit(() -> TaskContext.current().rank()).get();
      System.out.println("application ran a task on rank " + rank + " of " + pool.workers() + " workers, args " + List.of(args));
    }
  }

  /** Throws from main while a long task runs. */
  public static final class ThrowingMain {
    public static void main(String[] args) throws Exception {
      Jmpipool.executor().submit(() -> sleep(60_000));
      Thread.sleep(300);
      throw new IllegalStateException("boom from main");
    }
  }

  /** Calls System.exit(7) from main while a long task runs. */
  public static final class ExitingMain {
    public static void main(String[] args) throws Exception {
      Jmpipool.executor().submit(() -> sleep(60_000));
      Thread.sleep(300);
      System.exit(7);
    }
  }

  /** A task kills its own worker with SIGKILL while another worker runs a long task. */
  public static final class KilledWorker {
    public static void main(String[] args) throws Exception {
      MpiPoolExecutor pool = Jmpipool.executor();
      CompletableFuture<Integer> longTask = pool.submit(() -> sleep(60_000));
      Thread.sleep(300);
      CompletableFuture<Integer> killer = pool.submit(() -> {
        long pid = ProcessHandle.current().pid();
        new ProcessBuilder("kill", "-9", Long.toString(pid)).start().waitFor();
        Thread.sleep(60_000);
        return 0;
      });
      System.out.println("waiting for " + killer.get() + longTask.get());
    }
  }

  /** A task calls System.exit on its worker. */
  public static final class ExitingWorker {
    public static void main(String[] args) throws Exception {
      MpiPoolExecutor pool = Jmpipool.executor();
      pool.submit(() -> {
        System.exit(3);
        return 0;
      }).get();
    }
  }

  /** Idles, then reports the CPU each rank used meanwhile, as a percentage of one core. */
  public static final class Idle {
    public static void main(String[] args) throws Exception {
      MpiPoolExecutor pool = Jmpipool.executor();
      long idleMillis = Long.parseLong(args[0]);
      List<CompletableFuture<long[]>> before = cpuOfWorkers(pool);
      Thread.sleep(1_000);
      long masterBefore = processCpuNanos();
      List<long[]> start = new ArrayList<>();
      for (CompletableFuture<long[]> f : cpuOfWorkers(pool)) {
        start.add(f.get());
      }
      Thread.sleep(idleMillis);
      long masterCpu = processCpuNanos() - masterBefore;
      System.out.printf("idle_cpu_percent rank 0 %.1f%n", 100.0 * masterCpu / TimeUnit.MILLISECONDS.toNanos(idleMillis));
      List<CompletableFuture<long[]>> after = cpuOfWorkers(pool);
      for (int i = 0; i < after.size(); i++) {
        long[] end = after.get(i).get();
        long[] begin = start.stream().filter(s -> s[0] == end[0]).findFirst().orElseThrow();
        double percent = 100.0 * (end[1] - begin[1]) / (end[2] - begin[2]);
        System.out.printf("idle_cpu_percent rank %d %.1f%n", end[0], percent);
      }
      before.forEach(CompletableFuture::join);
    }

    /** One task per worker (they block on a barrier-free sleep so each worker gets one). */
    private static List<CompletableFuture<long[]>> cpuOfWorkers(MpiPoolExecutor pool) {
      List<CompletableFuture<long[]>> futures = new ArrayList<>();
      for (int i = 0; i < pool.workers(); i++) {
        futures.add(pool.submit(() -> {
          Thread.sleep(200);
          return new long[] {TaskContext.current().rank(), processCpuNanos(), System.nanoTime()};
        }));
      }
      return futures;
    }
  }

  static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
  }

  /** Does nothing; used to check that a job is started and ended cleanly. */
  public static final class Nothing {
    public static void main(String[] args) throws IOException {
      System.out.println("workers " + Jmpipool.executor().workers());
    }
  }
}
