package org.jmpipool;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jmpipool.internal.JobContext;
import org.jmpipool.internal.SpawnSettings;
import org.jmpipool.internal.Pools;

/**
 * Builds a new pool of a chosen backend, independent of the default executor:
 *
 * <pre>{@code
 * try (MpiPoolExecutor pool = Jmpipool.builder().backend(Backend.SPAWN).workers(4)
 *     .jvmOptions("-Xmx2g").inheritSystemProperties("model.dir").build()) {
 *   ...
 * }
 * }</pre>
 *
 * <p>The caller owns the pool: close it when done. A spawned pool's workers get this JVM's Java,
 * classpath, module-access and assertion options, the system properties named {@code jmpipool.*}
 * and {@code java.library.path}, and whatever is added here; their working directory is this
 * JVM's unless set. Options that only make sense for the local backend, or only for the spawn
 * backend, are ignored by the other.
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

  PoolBuilder() {
  }

  /**
   * Sets the backend: {@link Backend#LOCAL} (the default) or {@link Backend#SPAWN}. The
   * {@link Backend#MPI} backend's workers are the ranks of a launched job, which a program cannot
   * create: use {@link Jmpipool#executor(Backend)} for it.
   *
   * @param backend the backend
   * @return this builder
   */
  public PoolBuilder backend(Backend backend) {
    Objects.requireNonNull(backend, "backend");
    if (backend == Backend.MPI) {
      throw new IllegalArgumentException("the mpi backend's workers are the ranks of the launched job: get its executor"
          + " with Jmpipool.executor(Backend.MPI); a builder makes local or spawned pools");
    }
    this.backend = backend;
    return this;
  }

  /**
   * Sets the number of workers (threads of a local pool, processes of a spawned one). The default
   * is {@code jmpipool.workers} or {@code JMPIPOOL_WORKERS} if set, else one per core.
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
   * Starts the pool.
   *
   * @return the pool; the caller closes it
   * @throws PoolStartException when spawned workers cannot be started within the start timeout
   */
  public MpiPoolExecutor build() {
    int count = workers > 0 ? workers : JobContext.defaultWorkers();
    if (backend == Backend.LOCAL) {
      return Pools.local(count, serializeTasks);
    }
    Path directory = workingDirectory != null ? workingDirectory : Path.of(System.getProperty("user.dir"));
    return Pools.spawn(new SpawnSettings(count, List.copyOf(jvmOptions), Map.copyOf(systemProperties),
        List.copyOf(inheritedProperties), Map.copyOf(environment), directory, startTimeout));
  }
}
