package org.jmpipool.it;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.jmpipool.Backend;
import org.jmpipool.BrokenPoolException;
import org.jmpipool.Jmpipool;
import org.jmpipool.MpiPoolExecutor;
import org.jmpipool.PoolApplication;
import org.jmpipool.RemoteOrigin;
import org.jmpipool.TaskContext;
import org.jmpipool.internal.transport.MpiBinding;
import org.jmpipool.internal.transport.MpiBindings;
import org.jmpipool.internal.transport.NativeMemory;

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

  /**
   * Prints, for each worker rank, the host its tasks see ({@code TaskContext}) and the host their
   * exceptions name ({@code RemoteOrigin}), and the master's own host.
   */
  public static final class WorkerHosts {
    public static void main(String[] args) throws Exception {
      MpiPoolExecutor pool = Jmpipool.executor();
      System.out.println("master on " + InetAddress.getLocalHost().getHostName());
      Map<Integer, String> seen = new TreeMap<>();
      for (int round = 0; round < 20 && seen.size() < pool.workers(); round++) {
        List<CompletableFuture<String>> futures = new ArrayList<>();
        for (int i = 0; i < 4 * pool.workers(); i++) {
          futures.add(pool.submit(() -> {
            Thread.sleep(20);
            TaskContext context = TaskContext.current();
            throw new IllegalStateException(context.rank() + " " + context.host());
          }));
        }
        for (CompletableFuture<String> future : futures) {
          try {
            future.get();
          } catch (ExecutionException e) {
            String[] seenByTask = e.getCause().getMessage().split(" ");
            RemoteOrigin origin = RemoteOrigin.of(e.getCause()).orElseThrow();
            seen.put(origin.workerRank(), "task sees " + seenByTask[1] + ", exception names " + origin.host()
                + (Integer.parseInt(seenByTask[0]) == origin.workerRank() ? "" : " (ranks differ!)"));
          }
        }
      }
      seen.forEach((rank, hosts) -> System.out.println("worker rank " + rank + ": " + hosts));
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

  /**
   * Echoes a payload of {@code args[0]} MiB (byte arrays of 256 MiB) through a worker, as the
   * task's argument and its result, then reports the native memory every rank holds once its
   * buffers have been unused for longer than they are kept for reuse (a second).
   */
  public static final class HugePayload {
    private static final long UNUSED_MILLIS = 1500;

    public static void main(String[] args) throws Exception {
      long mebibytes = Long.parseLong(args[0]);
      byte[][] payload = new byte[(int) (mebibytes / 256)][256 << 20];
      for (int i = 0; i < payload.length; i++) {
        payload[i][0] = (byte) i;
        payload[i][payload[i].length - 1] = (byte) (i + 100);
      }
      MpiPoolExecutor pool = Jmpipool.executor();
      long start = System.nanoTime();
      byte[][] echoed = pool.submit((byte[][] arrays) -> arrays, payload).get();
      double seconds = (System.nanoTime() - start) / 1e9;
      boolean intact = echoed.length == payload.length;
      for (int i = 0; intact && i < payload.length; i++) {
        intact = java.util.Arrays.equals(payload[i], echoed[i]);
      }
      System.out.printf("echoed %d MiB intact=%b in %.1f s%n", mebibytes, intact, seconds);
      payload = null;
      echoed = null;
      Thread.sleep(UNUSED_MILLIS);
      System.out.println("native MiB rank 0: " + nativeMebibytes());
      List<CompletableFuture<String>> workers = new ArrayList<>();
      for (int i = 0; i < pool.workers(); i++) {
        workers.add(pool.submit(() -> {
          Thread.sleep(UNUSED_MILLIS);
          return "native MiB rank " + TaskContext.current().rank() + ": " + nativeMebibytes();
        }));
      }
      for (CompletableFuture<String> worker : workers) {
        System.out.println(worker.get());
      }
    }

    /** The direct and native buffers this JVM holds, in MiB. */
    static long nativeMebibytes() {
      return ManagementFactory.getPlatformMXBeans(java.lang.management.BufferPoolMXBean.class).stream()
          .filter(pool -> pool.getName().equals("direct"))
          .mapToLong(java.lang.management.BufferPoolMXBean::getMemoryUsed).sum() >> 20;
    }
  }

  /**
   * Submits a payload larger than this JVM's native memory for payloads (run it with a small
   * -XX:MaxDirectMemorySize): the future must have failed when submit returns.
   */
  public static final class PayloadBeyondMemory {
    public static void main(String[] args) throws Exception {
      MpiPoolExecutor pool = Jmpipool.executor();
      CompletableFuture<Integer> tooLarge = pool.submit((byte[] bytes) -> bytes.length, new byte[200 << 20]);
      System.out.println("failed when submit returned: " + tooLarge.isCompletedExceptionally());
      try {
        tooLarge.get();
      } catch (java.util.concurrent.ExecutionException e) {
        System.out.println("failure: " + e.getCause());
      }
      System.out.println("then: " + pool.submit((byte[] bytes) -> bytes.length, new byte[1 << 20]).get());
    }
  }

  /**
   * The executor's and the pools' contracts on spawned workers, then a worker that dies: run with
   * plain java of a configuration. An MPI that cannot spawn says so in one line.
   */
  public static final class SpawnedContracts {
    public static void main(String[] args) throws Exception {
      MpiPoolExecutor pool;
      try {
        pool = Jmpipool.builder().backend(org.jmpipool.Backend.SPAWN).workers(2).build();
      } catch (org.jmpipool.PoolStartException e) {
        System.out.println("cannot spawn: " + e.getMessage());
        return;
      }
      List<Contract.Named> checks = new ArrayList<>(Contract.checks(pool, true));
      checks.addAll(PoolContract.checks(() -> Jmpipool.builder().backend(org.jmpipool.Backend.SPAWN)));
      checks.add(new Contract.Named("a-worker-that-dies-breaks-the-pool", () -> {
        try (MpiPoolExecutor dying = Jmpipool.spawn(2)) {
          CompletableFuture<Integer> halts = dying.submit(() -> {
            Thread.sleep(200);
            Runtime.getRuntime().halt(5);
            return 0;
          });
          try {
            halts.get(20, TimeUnit.SECONDS);
            throw new AssertionError("no failure");
          } catch (java.util.concurrent.ExecutionException e) {
            Contract.expect(e.getCause() instanceof org.jmpipool.BrokenPoolException, "broken: " + e.getCause());
          }
        }
      }));
      Contract.runAll(checks);
    }
  }

  /**
   * Loads the MPI library of a JVM without the launcher, says its family and version, then, as
   * a job of one rank, sends itself messages of several lengths and tags (eager and rendezvous
   * sizes) and checks what the probes report: source, length, and the bytes.
   */
  public static final class BindingProbe {
    public static void main(String[] args) {
      MpiBinding mpi = MpiBindings.foreign(MpiBindings.pinnedLibrary());
      System.out.println("family " + mpi.family().optionName() + ": " + mpi.libraryVersion().lines().findFirst().orElse(""));
      System.out.println("thread level " + mpi.initThreadMultiple());
      MpiBinding.Comm world = mpi.dup(mpi.world());
      System.out.println("rank " + mpi.rank(world) + " of " + mpi.size(world) + " on " + mpi.processorName());
      int checked = 0;
      for (int length : new int[] {0, 5, 70_000, 3 << 20}) {
        int tag = 100 + checked;
        ByteBuffer out = NativeMemory.allocate(Math.max(length, 1));
        for (int i = 0; i < length; i++) {
          out.put(i, (byte) (i * 31 + tag));
        }
        MpiBinding.Request sent = mpi.isend(out, length, 0, tag, world);
        MpiBinding.Matched message = null;
        while (message == null) {
          message = mpi.improbe(mpi.anySource(), tag, world);
        }
        ByteBuffer in = NativeMemory.allocate(Math.max(length, 1));
        message.receive(in);
        while (!sent.test()) {
          Thread.onSpinWait();
        }
        boolean same = message.source() == 0 && message.length() == length;
        for (int i = 0; same && i < length; i++) {
          same = in.get(i) == out.get(i);
        }
        if (!same) {
          System.out.println("WRONG status or bytes for length " + length + ": source " + message.source() + ", length "
              + message.length());
          System.exit(1);
        }
        checked++;
      }
      mpi.free(world);
      mpi.finalizeMpi();
      System.out.println("statuses right for " + checked + " messages");
    }
  }

  /** A main that returns a value, which java refuses as an entry point. */
  public static final class IntMain {
    public static int main(String[] args) {
      return 0;
    }
  }

  /** Prints how many arguments it got and a digest of them all. */
  public static final class DigestArguments {
    public static void main(String[] args) throws Exception {
      java.security.MessageDigest digest = java.security.MessageDigest.getInstance("SHA-256");
      for (String arg : args) {
        digest.update(arg.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        digest.update((byte) 0);
      }
      System.out.println(args.length + " arguments, digest " + java.util.HexFormat.of().formatHex(digest.digest()));
    }
  }

  /** Two tasks on the job's executor that can only finish if one worker rank runs them at once. */
  public static final class ThreadsPerRank {
    private static final java.util.concurrent.CyclicBarrier PAIR = new java.util.concurrent.CyclicBarrier(2);

    static String meet() throws Exception {
      PAIR.await(30, TimeUnit.SECONDS);
      return TaskContext.current().rank() + "@" + TaskContext.current().host() + " " + Thread.currentThread().getName();
    }

    /** Two tasks per worker, each pair meeting on its worker's threads; says so when every worker ran its pair at once. */
    public static void main(String[] args) throws Exception {
      MpiPoolExecutor pool = Jmpipool.executor();
      List<CompletableFuture<String>> meetings = new ArrayList<>();
      for (int i = 0; i < 2 * pool.workers(); i++) {
        meetings.add(pool.submit(ThreadsPerRank::meet));
      }
      Map<String, Set<String>> threadsByWorker = new TreeMap<>();
      for (CompletableFuture<String> meeting : meetings) {
        String[] worker = meeting.get(60, TimeUnit.SECONDS).split(" ", 2);
        threadsByWorker.computeIfAbsent(worker[0], key -> new TreeSet<>()).add(worker[1]);
      }
      if (threadsByWorker.size() == pool.workers() && threadsByWorker.values().stream().allMatch(t -> t.size() == 2)) {
        System.out.println("each of " + pool.workers() + " worker ranks ran 2 tasks at once on threads "
            + threadsByWorker.keySet());
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
          // From Java 19 on (JDK-8297393), get() throws a new CancellationException whose cause is the future's.
          System.out.println("cancelled: " + (e.getCause() != null ? e.getCause() : e).getMessage());
          System.out.flush();
          throw e;
        }
      }
      System.out.println("all tasks done, unexpectedly");
    }
  }

  /** Maps 400 tasks of 100 ms each (20 s on two workers), saying when the map started and what it summed. */
  public static final class LongMap {
    public static void main(String[] args) throws Exception {
      longMap(Jmpipool.executor());
    }
  }

  private static void longMap(MpiPoolExecutor pool) {
    System.out.println("map started");
    System.out.flush();
    long sum = 0;
    for (int value : pool.map((Integer i) -> {
      sleep(100);
      return i;
    }, IntStream.range(0, 400).boxed().toList())) {
      sum += value;
    }
    System.out.println("sum " + sum);
  }

  /**
   * A spawned pool on the hosts of the first argument running a long map, which a test may
   * break by failing a node; then a pool on the hosts of the second argument. Says where each
   * pool's workers ran, and when and how the first one broke (epoch milliseconds).
   */
  public static final class PoolsOnHosts {
    public static void main(String[] args) throws Exception {
      System.out.println("master on " + InetAddress.getLocalHost().getHostName());
      try (MpiPoolExecutor pool = poolOn(args[0])) {
        System.out.println("first pool: " + workerHosts(pool));
        longMap(pool);
      } catch (RuntimeException e) {
        Throwable cause = e;
        while (cause != null && !(cause instanceof BrokenPoolException)) {
          cause = cause.getCause();
        }
        if (cause == null) {
          throw e;
        }
        System.out.println("broken at " + System.currentTimeMillis() + ", worker rank "
            + ((BrokenPoolException) cause).workerRank() + ": " + cause.getMessage());
      }
      try (MpiPoolExecutor pool = poolOn(args[1])) {
        System.out.println("second pool: " + workerHosts(pool));
      }
    }

    private static MpiPoolExecutor poolOn(String hosts) {
      String[] names = hosts.split(",");
      return Jmpipool.builder().backend(Backend.SPAWN).workers(names.length).hosts(names).build();
    }

    private static String workerHosts(MpiPoolExecutor pool) throws Exception {
      Set<String> seen = new TreeSet<>();
      for (int round = 0; round < 20 && seen.size() < pool.workers(); round++) {
        List<CompletableFuture<String>> futures = new ArrayList<>();
        for (int i = 0; i < 2 * pool.workers(); i++) {
          futures.add(pool.submit(() -> {
            sleep(20);
            return "worker rank " + TaskContext.current().rank() + " on " + TaskContext.current().host();
          }));
        }
        for (CompletableFuture<String> future : futures) {
          seen.add(future.get());
        }
      }
      return String.join(", ", seen);
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

  /**
   * Meant for plain {@code java} without the runtime's {@code --add-opens}: fresh local pools
   * busy at once with lambdas from many threads and an initializer lambda (Kryo instances are
   * created while others decode lambdas), and an exception as a task's argument.
   */
  public static final class WithoutOpens {
    public static void main(String[] args) throws Exception {
      int failures = 0;
      for (int round = 0; round < 30; round++) {
        try (MpiPoolExecutor pool = Jmpipool.builder().backend(org.jmpipool.Backend.LOCAL).workers(4)
            .initializer((Integer salt) -> "state " + salt, round).build()) {
          ExecutorService callers = Executors.newFixedThreadPool(8);
          List<Future<Integer>> wrong = new ArrayList<>();
          for (int t = 0; t < 8; t++) {
            int base = 1000 * t + round;
            wrong.add(callers.submit(() -> lambdasFrom(pool, base)));
          }
          for (Future<Integer> count : wrong) {
            failures += count.get();
          }
          callers.shutdown();
        }
      }
      System.out.println("lambda failures " + failures);
      try (MpiPoolExecutor pool = Jmpipool.local(2)) {
        String carried = pool.submit((Exception e) -> e.getClass().getSimpleName() + " " + e.getMessage(),
            new IOException("as an argument")).get();
        System.out.println("exception argument: " + carried);
      }
    }

    private static int lambdasFrom(MpiPoolExecutor pool, int base) throws InterruptedException {
      int bad = 0;
      List<CompletableFuture<Integer>> futures = new ArrayList<>();
      for (int i = 0; i < 30; i++) {
        int offset = i;
        futures.add(pool.submit(() -> base + offset));
      }
      for (int i = 0; i < futures.size(); i++) {
        try {
          if (futures.get(i).get() != base + i) {
            bad++;
          }
        } catch (java.util.concurrent.ExecutionException e) {
          System.out.println("FAILED: " + e.getCause());
          bad++;
        }
      }
      try {
        if (!pool.map((Integer x) -> x + base, List.of(1, 2, 3)).toList().equals(List.of(base + 1, base + 2, base + 3))) {
          bad++;
        }
      } catch (RuntimeException e) {
        System.out.println("FAILED: " + e);
        bad++;
      }
      return bad;
    }
  }

  /**
   * Starts a pool of one worker whose JVMs (the start check's, the worker's, a relay's) log the
   * classes they load to files in the directory {@code args[0]}, and runs a task on it: spawned,
   * or, with a second argument, on that host (an MPI job of its own).
   */
  public static final class SpawnsLoggingClassLoading {
    public static void main(String[] args) throws Exception {
      org.jmpipool.PoolBuilder builder = Jmpipool.builder().backend(org.jmpipool.Backend.SPAWN).workers(1)
          .jvmOptions("-Xlog:class+load=info:file=" + args[0] + "/%p.log");
      if (args.length > 1) {
        builder.hosts(args[1]);
      }
      try (MpiPoolExecutor pool = builder.build()) {
        System.out.println("answer " + pool.submit(() -> 42).get());
      }
    }
  }

  /** Does nothing; used to check that a job is started and ended cleanly. */
  public static final class Nothing {
    public static void main(String[] args) throws IOException {
      System.out.println("workers " + Jmpipool.executor().workers());
    }
  }
}
