package org.jmpipool.junit;

import java.lang.reflect.AnnotatedElement;
import java.lang.reflect.Field;
import java.lang.reflect.Parameter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jmpipool.Backend;
import org.jmpipool.Jmpipool;
import org.jmpipool.MpiPoolExecutor;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.TestInstancePostProcessor;
import org.opentest4j.TestAbortedException;

/**
 * Injects jmpipool executors into tests: parameters and fields annotated with {@link LocalPool}
 * or {@link SpawnedPool}.
 *
 * <pre>{@code
 * @ExtendWith(JmpipoolExtension.class)
 * class ModelTest {
 *   @Test
 *   void simulatesInParallel(@LocalPool(threads = 4) MpiPoolExecutor pool) throws Exception {
 *     assertEquals(42.0, pool.submit(Model::simulate, 7).get());
 *   }
 * }
 * }</pre>
 *
 * <p>A pool is shared by every test of the run that asks for the same kind and size, and closed
 * when the run ends; a test that shuts its pool down gets a new one next time. A spawned pool
 * that cannot be started skips the tests that need it, saying why (see {@link SpawnedPool}).
 */
public final class JmpipoolExtension implements ParameterResolver, TestInstancePostProcessor, BeforeEachCallback {

  /** Set to {@code true} to make tests fail, instead of being skipped, when spawned pools cannot start. */
  public static final String REQUIRE_MPI_PROPERTY = "jmpipool.junit.requireMpi";

  private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(JmpipoolExtension.class);

  /** Which pool a test asks for. */
  private record PoolKey(Backend backend, int workers, boolean serializeTasks) {

    static PoolKey of(AnnotatedElement element) {
      LocalPool local = element.getAnnotation(LocalPool.class);
      SpawnedPool spawned = element.getAnnotation(SpawnedPool.class);
      if (local != null && spawned != null) {
        throw new ExtensionConfigurationException(element + " asks for both a local and a spawned pool");
      }
      if (local != null) {
        return new PoolKey(Backend.LOCAL, local.threads(), local.serializeTasks());
      }
      return spawned == null ? null : new PoolKey(Backend.SPAWN, spawned.workers(), true);
    }

    String describe() {
      return backend == Backend.LOCAL ? "local pool of " + workers + " threads" + (serializeTasks ? "" : " (no serialization)")
          : "spawned pool of " + workers + " MPI workers";
    }
  }

  /** One pool of the run, or why it could not be started; closed with the run. */
  private static final class SharedPool implements AutoCloseable {
    private final MpiPoolExecutor executor;
    private final RuntimeException startFailure;

    SharedPool(MpiPoolExecutor executor, RuntimeException startFailure) {
      this.executor = executor;
      this.startFailure = startFailure;
    }

    @Override
    public void close() throws InterruptedException {
      if (executor != null) {
        executor.shutdownNow();
        executor.awaitTermination(30, TimeUnit.SECONDS);
      }
    }
  }

  @Override
  public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
    return isPoolSlot(parameterContext.getParameter().getType(), parameterContext.getParameter());
  }

  private static boolean isPoolSlot(Class<?> type, AnnotatedElement element) {
    return PoolKey.of(element) != null && type.isAssignableFrom(MpiPoolExecutor.class);
  }

  @Override
  public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
    Parameter parameter = parameterContext.getParameter();
    SharedPool pool = pool(PoolKey.of(parameter), extensionContext);
    if (pool.executor == null) {
      throw new ParameterResolutionException("cannot inject " + parameter + ": " + pool.startFailure.getMessage(),
          pool.startFailure);
    }
    return pool.executor;
  }

  /** Skips a test whose spawned pool cannot be started, before its parameters are resolved. */
  @Override
  public void beforeEach(ExtensionContext context) {
    List<AnnotatedElement> slots = new ArrayList<>(List.of(context.getRequiredTestMethod().getParameters()));
    for (Class<?> type = context.getRequiredTestClass(); type != null; type = type.getSuperclass()) {
      slots.addAll(List.of(type.getDeclaredFields()));
    }
    for (AnnotatedElement slot : slots) {
      PoolKey key = PoolKey.of(slot);
      if (key != null) {
        SharedPool pool = pool(key, context);
        if (pool.executor == null) {
          throw unavailable(key, pool.startFailure);
        }
      }
    }
  }

  @Override
  public void postProcessTestInstance(Object testInstance, ExtensionContext context) throws IllegalAccessException {
    for (Class<?> type = testInstance.getClass(); type != null; type = type.getSuperclass()) {
      for (Field field : type.getDeclaredFields()) {
        if (!isPoolSlot(field.getType(), field)) {
          continue;
        }
        SharedPool pool = pool(PoolKey.of(field), context);
        if (pool.executor != null) {
          field.setAccessible(true);
          field.set(testInstance, pool.executor);
        }
      }
    }
  }

  private static RuntimeException unavailable(PoolKey key, RuntimeException failure) {
    String reason = key.describe() + " unavailable: " + failure.getMessage();
    if (Boolean.getBoolean(REQUIRE_MPI_PROPERTY)) {
      return new ExtensionConfigurationException(reason + " (" + REQUIRE_MPI_PROPERTY + " is set)", failure);
    }
    return new TestAbortedException("skipped: " + reason);
  }

  /** Returns the run's pool for a key, starting it (again, if a test shut it down) when needed. */
  private static SharedPool pool(PoolKey key, ExtensionContext context) {
    ExtensionContext.Store store = context.getRoot().getStore(NAMESPACE);
    synchronized (JmpipoolExtension.class) {
      SharedPool pool = store.get(key, SharedPool.class);
      if (pool == null || (pool.executor != null && pool.executor.isShutdown())) {
        pool = start(key);
        store.put(key, pool);
      }
      return pool;
    }
  }

  private static SharedPool start(PoolKey key) {
    try {
      MpiPoolExecutor executor = Jmpipool.builder().backend(key.backend()).workers(key.workers())
          .serializeTasks(key.serializeTasks()).build();
      return new SharedPool(executor, null);
    } catch (RuntimeException | LinkageError e) {
      return new SharedPool(null, e instanceof RuntimeException runtime ? runtime : new IllegalStateException(e.toString(), e));
    }
  }
}
