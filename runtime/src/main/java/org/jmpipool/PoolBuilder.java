package org.jmpipool;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import org.jmpipool.internal.JobContext;
import org.jmpipool.internal.master.PoolOptions;
import org.jmpipool.internal.Pools;
import org.jmpipool.internal.SpawnSettings;

/**
 * Builds a new pool of a chosen backend, independent of the default executor, as an
 * {@link MpiPoolExecutor} ({@link #build()}), an {@link MpiPool} ({@link #buildPool()}) or a
 * {@link WorkerPool} ({@link #buildWorkerPool()}):
 *
 * <pre>{@code
 * try (MpiPoolExecutor pool = Jmpipool.builder().backend(Backend.SPAWN).workers(4)
 *     .threadsPerWorker(8).initializer(Model::load, Path.of("model.bin"))
 *     .jvmOptions("-Xmx2g").inheritSystemProperties("model.dir").build()) {
 *   ...
 * }
 * }</pre>
 *
 * <p>The caller owns the pool: close it when done. Pools are independent of each other and of
 * the default executor, even on the same ranks: each has its own messages, task threads,
 * initializer and stored objects, and several can be used at once from many threads.
 *
 * <p>A pool on the {@link Backend#MPI} backend uses worker ranks of the launched job (the first
 * {@link #workers(int) workers} of them, all by default). A spawned pool's workers get this
 * JVM's Java, classpath, module-access and assertion options, the system properties named
 * {@code jmpipool.*} and {@code java.library.path}, and whatever is added here; their working
 * directory is this JVM's unless set. Options that only make sense for one backend are ignored
 * by the others.
 */
public final class PoolBuilder {

  private Backend backend = Backend.LOCAL;
  private int workers = -1;
  private boolean serializeTasks = true;
  private final List<String> jvmOptions = new ArrayList<>();
  private final Map<String, String> systemProperties = new LinkedHashMap<>();
  private final List<String> inheritedProperties = new ArrayList<>();
  private final Map<String, String> environment = new LinkedHashMap<>();
  private Path workingDirectory;
  private Duration startTimeout = JobContext.DEFAULT_START_TIMEOUT;
  private List<String> hosts;
  private int threadsPerWorker = -1;
  private Callable<?> initializer;
  private Long seed;

  PoolBuilder() {
  }

  /**
   * Sets the backend: {@link Backend#LOCAL} (the default), {@link Backend#SPAWN}, or
   * {@link Backend#MPI} (worker ranks of the launched job; building fails in a JVM the launcher
   * did not start).
   *
   * @param backend the backend
   * @return this builder
   */
  public PoolBuilder backend(Backend backend) {
    this.backend = Objects.requireNonNull(backend, "backend");
    return this;
  }

  /**
   * Sets the number of workers (threads of a local pool, processes of a spawned one, ranks of a
   * launched job). The default is, for the mpi backend, every worker rank of the job; otherwise
   * {@code jmpipool.workers} or {@code JMPIPOOL_WORKERS} if set, else one per core.
   *
   * @param count at least 1
   * @return this builder
   */
  public PoolBuilder workers(int count) {
    if (count < 1) {
      throw new IllegalArgumentException("a pool needs at least 1 worker, not " + count);
    }
    this.workers = count;
    return this;
  }

  /**
   * Local pools only: whether tasks, their arguments and results are serialized on their way, as
   * they are over MPI (the default: what works locally then works on a cluster). Without it,
   * objects are handed to the worker threads as they are: faster, but tasks then share objects
   * with the caller, and a task that could not be sent over MPI is not noticed.
   *
   * @param serialize whether to serialize
   * @return this builder
   */
  public PoolBuilder serializeTasks(boolean serialize) {
    this.serializeTasks = serialize;
    return this;
  }

  /**
   * Spawned pools only: adds options for the worker JVMs, such as {@code -Xmx4g}.
   *
   * @param options the options
   * @return this builder
   */
  public PoolBuilder jvmOptions(String... options) {
    for (String option : options) {
      jvmOptions.add(Objects.requireNonNull(option, "option"));
    }
    return this;
  }

  /**
   * Spawned pools only: sets a system property in the worker JVMs.
   *
   * @param name the property's name
   * @param value its value
   * @return this builder
   */
  public PoolBuilder systemProperty(String name, String value) {
    systemProperties.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
    return this;
  }

  /**
   * Spawned pools only: passes these system properties of this JVM, where set, to the workers.
   *
   * @param names the properties' names
   * @return this builder
   */
  public PoolBuilder inheritSystemProperties(String... names) {
    inheritedProperties.addAll(Arrays.asList(names));
    return this;
  }

  /**
   * Spawned pools only: sets an environment variable for the worker processes (they otherwise
   * see this process's environment).
   *
   * @param name the variable's name
   * @param value its value
   * @return this builder
   */
  public PoolBuilder environment(String name, String value) {
    if (Objects.requireNonNull(name, "name").isEmpty() || name.contains("=")) {
      throw new IllegalArgumentException("not an environment variable name: '" + name + "'");
    }
    environment.put(name, Objects.requireNonNull(value, "value"));
    return this;
  }

  /**
   * Spawned pools only: sets the workers' working directory (default: this JVM's).
   *
   * @param directory the directory
   * @return this builder
   */
  public PoolBuilder workingDirectory(Path directory) {
    this.workingDirectory = Objects.requireNonNull(directory, "directory").toAbsolutePath();
    return this;
  }

  /**
   * Spawned pools only: runs the workers on these hosts, each getting an equal share in the
   * order given (the first ones one more when the count does not divide). The workers are then
   * an MPI job of their own, started by this JVM with the MPI's launch program ({@code mpirun} of
   * Open MPI, {@code mpiexec} of the MPICH family, found on PATH), which reaches the hosts as it
   * always does (ssh, or Open MPI's {@code OMPI_MCA_plm_rsh_agent} and Hydra's
   * {@code HYDRA_LAUNCHER_EXEC} in this JVM's environment); one rank of that job runs on this host
   * and relays between this JVM, over a local socket, and the workers. Every host needs the paths
   * this JVM uses (the JDK, the classpath, the MPI library). A worker that ends, or whose node
   * fails or is cut off, breaks the pool with {@link BrokenPoolException} within seconds (the
   * heartbeats' timeout, {@code jmpipool.heartbeat.timeout}, at most); this JVM stays, and a new
   * pool on the remaining hosts works. The default is the comma-separated list in
   * {@code jmpipool.spawn.hosts}; without either, workers are spawned on this host through MPI's
   * dynamic processes.
   *
   * @param names host names, at least one, none blank; {@code localhost} is this host
   * @return this builder
   * @throws IllegalArgumentException when no name is given, or one is blank or holds a space or comma
   */
  public PoolBuilder hosts(String... names) {
    this.hosts = JobContext.hostList(Arrays.asList(names), "hosts(...)");
    return this;
  }

  /**
   * Spawned pools only: how long starting the workers may take before {@link #build()} fails
   * (default 60 s).
   *
   * @param timeout the time
   * @return this builder
   */
  public PoolBuilder startTimeout(Duration timeout) {
    if (Objects.requireNonNull(timeout, "timeout").isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("the start timeout must be positive, not " + timeout);
    }
    this.startTimeout = timeout;
    return this;
  }

  /**
   * Sets how many tasks each worker runs at once, on as many task threads (the launcher's
   * {@code --threads-per-rank}): one worker JVM per node with many threads saves the memory of
   * one JVM per core. The scheduler counts each worker as that many slots. The default is
   * {@code jmpipool.threads} or {@code JMPIPOOL_THREADS} if set, else 1.
   *
   * @param threads at least 1
   * @return this builder
   */
  public PoolBuilder threadsPerWorker(int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("a worker needs at least 1 task thread, not " + threads);
    }
    this.threadsPerWorker = threads;
    return this;
  }

  /**
   * Sets a function to run once on every worker before any task of the pool, such as loading a
   * model; its value is the worker's state, which tasks read with
   * {@link TaskContext#workerState()}. If it throws on any worker, the pool is broken: pending and
   * later tasks fail with a {@link BrokenPoolException} naming the worker and the cause, and
   * {@link MpiPoolExecutor#workers()} reads 0.
   *
   * @param function the initializer, serialized with its argument
   * @param argument its argument
   * @param <A> the argument's type
   * @return this builder
   */
  public <A> PoolBuilder initializer(SerializableFunction<? super A, ?> function, A argument) {
    Objects.requireNonNull(function, "function");
    SerializableCallable<Object> call = () -> function.apply(argument);
    this.initializer = call;
    return this;
  }

  /**
   * Sets an action to run once on every worker before any task of the pool; see
   * {@link #initializer(SerializableFunction, Object)}. The worker's state stays {@code null}.
   *
   * @param action the initializer
   * @return this builder
   */
  public PoolBuilder initializer(SerializableRunnable action) {
    Objects.requireNonNull(action, "action");
    SerializableCallable<Object> call = () -> {
      action.run();
      return null;
    };
    this.initializer = call;
    return this;
  }

  /**
   * Seeds the tasks' random generators ({@link TaskContext#random()}), so that a run can be
   * repeated exactly. The default is {@code jmpipool.seed} if set, else a new random seed per pool.
   *
   * @param value the seed
   * @return this builder
   */
  public PoolBuilder seed(long value) {
    this.seed = value;
    return this;
  }

  /**
   * Starts the pool.
   *
   * @return the pool; the caller closes it
   * @throws PoolStartException when spawned workers cannot be started within the start timeout
   * @throws IllegalStateException for the mpi backend in a JVM the launcher did not start
   * @throws IllegalArgumentException for the mpi backend, when the job has fewer worker ranks; for
   *     the spawn backend, when {@code jmpipool.spawn.hosts} is not a list of host names
   */
  public MpiPoolExecutor build() {
    int threads = threadsPerWorker > 0 ? threadsPerWorker : JobContext.threadsPerWorker();
    PoolOptions options = new PoolOptions(threads, initializer, seed != null ? seed : JobContext.seed());
    if (backend == Backend.MPI) {
      return workers > 0 ? Pools.onJob(workers, options) : Pools.onJobWithAllRanks(options);
    }
    int count = workers > 0 ? workers : JobContext.defaultWorkers();
    if (backend == Backend.LOCAL) {
      return Pools.local(count, serializeTasks, options);
    }
    Path directory = workingDirectory != null ? workingDirectory : Path.of(System.getProperty("user.dir"));
    Map<String, String> properties = new LinkedHashMap<>(systemProperties);
    properties.put(JobContext.THREADS_PROPERTY, Integer.toString(threads));
    return Pools.spawn(new SpawnSettings(count, List.copyOf(jvmOptions), Map.copyOf(properties),
        List.copyOf(inheritedProperties), Map.copyOf(environment), directory, startTimeout,
        hosts != null ? hosts : JobContext.spawnHosts()), options);
  }

  /**
   * Starts the pool as an {@link MpiPool}, in the style of Python's {@code multiprocessing.Pool}.
   *
   * @return the pool; the caller closes it
   * @throws PoolStartException when spawned workers cannot be started within the start timeout
   */
  public MpiPool buildPool() {
    return Pools.mpiPool(build());
  }

  /**
   * Starts the pool as a {@link WorkerPool}, in the style of pyMOR's worker pools.
   *
   * @return the pool; the caller closes it
   * @throws PoolStartException when spawned workers cannot be started within the start timeout
   */
  public WorkerPool buildWorkerPool() {
    return Pools.workerPool(build());
  }
}
