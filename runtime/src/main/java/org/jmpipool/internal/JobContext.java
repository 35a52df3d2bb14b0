package org.jmpipool.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.jmpipool.Backend;
import org.jmpipool.Jmpipool;
import org.jmpipool.MpiPoolExecutor;
import org.jmpipool.SerialPolicy;
import org.jmpipool.internal.worker.RunningTask;

/**
 * The executors behind {@code Jmpipool.executor()}: the launched job's, installed by
 * {@link Bootstrap}, and one shared embedded pool per backend, created on first use and ended
 * with the JVM.
 *
 * <p>Threads: any; the default pools are created and replaced under the class's lock.
 */
public final class JobContext {

  /** The system property choosing the default backend. */
  public static final String BACKEND_PROPERTY = "jmpipool.backend";
  /** The environment variable choosing the default backend. */
  public static final String BACKEND_VARIABLE = "JMPIPOOL_BACKEND";
  /** The system property giving the number of workers of default embedded pools. */
  public static final String WORKERS_PROPERTY = "jmpipool.workers";
  /** The environment variable giving the number of workers of default embedded pools. */
  public static final String WORKERS_VARIABLE = "JMPIPOOL_WORKERS";
  /** The system property choosing the serial policy. */
  public static final String SERIAL_PROPERTY = "jmpipool.serial";
  /** The environment variable choosing the serial policy. */
  public static final String SERIAL_VARIABLE = "JMPIPOOL_SERIAL";
  /** The system property giving the number of task threads of each worker (the launcher's --threads-per-rank). */
  public static final String THREADS_PROPERTY = "jmpipool.threads";
  /** The environment variable giving the number of task threads of each worker. */
  public static final String THREADS_VARIABLE = "JMPIPOOL_THREADS";
  /** The system property giving the default random seed of pools. */
  public static final String SEED_PROPERTY = "jmpipool.seed";
  /** The system property listing the hosts of spawned pools' workers, comma-separated. */
  public static final String SPAWN_HOSTS_PROPERTY = "jmpipool.spawn.hosts";
  /** What a host name (or IPv4 address) in a host list may be. */
  private static final Pattern HOST_NAME = Pattern.compile("[A-Za-z0-9._-]+");
  /** How long the workers of a default spawned pool may take to start. */
  public static final Duration DEFAULT_START_TIMEOUT = Duration.ofSeconds(60);

  private static volatile MpiPoolExecutor launched;
  private static volatile int workerRank = -1;
  private static Backend chosen;
  private static final Map<Backend, MpiPoolExecutor> SHARED = new EnumMap<>(Backend.class);

  private JobContext() {
  }

  static void install(MpiPoolExecutor jobExecutor) {
    launched = jobExecutor;
  }

  static void markWorker(int rank) {
    workerRank = rank;
  }

  /** Returns whether this JVM runs the program of a job started by the launcher. */
  public static boolean isLaunched() {
    return launched != null;
  }

  /** Returns this JVM's rank in a launched job: its worker rank, else 0. */
  public static int processRank() {
    return Math.max(workerRank, 0);
  }

  /** Returns whether the calling thread runs a task, or this JVM is a worker of a launched job. */
  public static boolean inTask() {
    return workerRank >= 0 || RunningTask.isBound();
  }

  /**
   * Makes a backend the default of {@link #executor()}.
   *
   * @param backend the backend, or {@code null} to go back to the property, variable or automatic choice
   */
  public static synchronized void choose(Backend backend) {
    chosen = backend;
  }

  /**
   * Returns the default backend: chosen by API, else by property, else by environment, else
   * {@link Backend#MPI} when launched and {@link Backend#LOCAL} otherwise.
   */
  public static synchronized Backend defaultBackend() {
    Backend explicit = explicitBackend();
    return explicit != null ? explicit : isLaunched() ? Backend.MPI : Backend.LOCAL;
  }

  private static Backend explicitBackend() {
    if (chosen != null) {
      return chosen;
    }
    String name = setting(BACKEND_PROPERTY, BACKEND_VARIABLE);
    return name == null ? null : Backend.parse(name);
  }

  /** Returns the serial policy from the property or environment; {@link SerialPolicy#WARN} by default. */
  public static SerialPolicy serialPolicy() {
    String name = setting(SERIAL_PROPERTY, SERIAL_VARIABLE);
    return name == null ? SerialPolicy.WARN : SerialPolicy.parse(name);
  }

  /**
   * Returns the executor of the default backend.
   *
   * @return the executor
   * @throws IllegalStateException inside a task, or for the MPI backend outside a launched job
   */
  public static MpiPoolExecutor executor() {
    Backend backend;
    boolean automatic;
    synchronized (JobContext.class) {
      automatic = explicitBackend() == null;
      backend = defaultBackend();
    }
    return executor(backend, automatic);
  }

  /**
   * Returns the shared executor of a backend, creating it if needed, without changing the default.
   *
   * @param backend the backend
   * @return the executor
   * @throws IllegalStateException inside a task, or for the MPI backend outside a launched job
   */
  public static MpiPoolExecutor executor(Backend backend) {
    return executor(backend, false);
  }

  private static MpiPoolExecutor executor(Backend backend, boolean automatic) {
    if (inTask()) {
      throw new IllegalStateException("Jmpipool.executor() is for the program that hands out tasks; this "
          + (workerRank >= 0 ? "is worker rank " + workerRank + ", where tasks run," : "thread runs a task,")
          + " and a task cannot submit tasks");
    }
    if (backend == Backend.MPI) {
      MpiPoolExecutor job = launched;
      if (job == null) {
        throw new IllegalStateException("the mpi backend is the ranks of a job started by the jmpipool launcher"
            + " (bin/jmpipool -n N MAIN_CLASS ...), and this JVM was not started that way; use the spawn or local"
            + " backend (" + BACKEND_PROPERTY + "=spawn|local)");
      }
      return job;
    }
    synchronized (JobContext.class) {
      MpiPoolExecutor shared = SHARED.get(backend);
      if (shared == null || shared.isShutdown()) {
        shared = createDefault(backend, automatic);
        SHARED.put(backend, shared);
      }
      return shared;
    }
  }

  /**
   * Decides, by the serial policy, about a pool whose tasks would run one at a time: refuses it,
   * says so on stderr, or accepts it silently.
   *
   * @param situation what would run one at a time, such as "the default local pool would have 1 worker"
   * @param remedy what to do instead, such as "start at least 2 ranks"
   * @throws IllegalStateException when the policy is to refuse
   */
  static void acceptSerial(String situation, String remedy) {
    switch (serialPolicy()) {
      case RAISE -> throw new IllegalStateException(situation + ", so tasks would run one at a time: " + remedy
          + " (or " + SERIAL_PROPERTY + "=warn to accept it)");
      case WARN -> System.err.println("jmpipool: " + situation + ": tasks run one at a time (" + remedy + "; "
          + SERIAL_PROPERTY + "=ignore hides this line)");
      case IGNORE -> { }
      default -> throw new IllegalStateException("unknown serial policy");
    }
  }

  private static MpiPoolExecutor createDefault(Backend backend, boolean automatic) {
    int workers = defaultWorkers();
    if (workers < 2) {
      acceptSerial("the default " + backend.name().toLowerCase(java.util.Locale.ROOT) + " pool would have " + workers
          + " worker", "set " + WORKERS_PROPERTY + " to 2 or more");
    }
    if (automatic) {
      System.err.println("jmpipool: not started by the launcher: tasks run on a local pool of " + workers
          + " worker threads in this JVM (" + BACKEND_PROPERTY + "=spawn starts MPI worker processes instead)");
    }
    return Jmpipool.builder().backend(backend).workers(workers).build();
  }

  /** The number of workers of default embedded pools: from the property or environment, else one per core. */
  public static int defaultWorkers() {
    return positiveSetting(WORKERS_PROPERTY, WORKERS_VARIABLE, Runtime.getRuntime().availableProcessors());
  }

  /** The number of task threads of each worker, unless a pool sets it: from the property or environment, else 1. */
  public static int threadsPerWorker() {
    return positiveSetting(THREADS_PROPERTY, THREADS_VARIABLE, 1);
  }

  /**
   * The random seed of a pool that sets none: {@code jmpipool.seed} when set (so that a whole
   * run can be repeated), else a new random one.
   */
  public static long seed() {
    String value = System.getProperty(SEED_PROPERTY);
    if (value == null || value.isBlank()) {
      return java.util.concurrent.ThreadLocalRandom.current().nextLong();
    }
    try {
      return Long.parseLong(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(SEED_PROPERTY + " must be a whole number, not '" + value + "'");
    }
  }

  /** The hosts of spawned pools' workers that set none: {@code jmpipool.spawn.hosts}, else none (this JVM's host). */
  public static List<String> spawnHosts() {
    String value = System.getProperty(SPAWN_HOSTS_PROPERTY);
    return value == null || value.isBlank() ? List.of() : hostList(List.of(value.split(",", -1)), SPAWN_HOSTS_PROPERTY);
  }

  /**
   * Checks a list of host names.
   *
   * @param where names the setting in messages
   * @return the names, trimmed
   * @throws IllegalArgumentException when it is empty, or a name is not a host name or address
   *     (letters, digits, dots, hyphens, underscores)
   */
  public static List<String> hostList(List<String> names, String where) {
    if (names.isEmpty()) {
      throw new IllegalArgumentException(where + " needs at least one host");
    }
    List<String> hosts = new ArrayList<>();
    for (String name : names) {
      String host = name == null ? "" : name.strip();
      if (!HOST_NAME.matcher(host).matches()) {
        throw new IllegalArgumentException(where + ": '" + name + "' is not a host name");
      }
      hosts.add(host);
    }
    return List.copyOf(hosts);
  }

  private static int positiveSetting(String property, String variable, int otherwise) {
    String value = setting(property, variable);
    if (value == null) {
      return otherwise;
    }
    try {
      int number = Integer.parseInt(value.trim());
      if (number < 1) {
        throw new NumberFormatException();
      }
      return number;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(property + " must be a whole number of at least 1, not '" + value + "'");
    }
  }

  private static String setting(String property, String variable) {
    String value = System.getProperty(property);
    if (value == null || value.isBlank()) {
      value = System.getenv(variable);
    }
    return value == null || value.isBlank() ? null : value;
  }
}
