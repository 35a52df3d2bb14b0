package org.jmpipool.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Asks {@link JmpipoolExtension} for a pool of MPI worker processes spawned from the test JVM
 * ({@code Jmpipool.spawn}) in a test parameter or field of type {@code MpiPoolExecutor} (or
 * {@code ExecutorService}). Tests asking for the same number of workers share one pool for the
 * whole run. Where MPI cannot start workers (no Open MPI, no Java bindings on the test
 * classpath), the test is skipped with the reason, unless the system property
 * {@code jmpipool.junit.requireMpi} is {@code true}, which makes it fail instead.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.PARAMETER, ElementType.FIELD})
public @interface SpawnedPool {

  /**
   * Returns the number of worker processes.
   *
   * @return the number of worker processes
   */
  int workers() default 2;
}
