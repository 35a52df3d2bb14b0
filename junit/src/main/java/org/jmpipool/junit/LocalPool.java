package org.jmpipool.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Asks {@link JmpipoolExtension} for a local pool ({@code Jmpipool.local}) in a test parameter or
 * field of type {@code MpiPoolExecutor} (or {@code ExecutorService}). Tests asking for the same
 * threads and serialization share one pool for the whole run.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.PARAMETER, ElementType.FIELD})
public @interface LocalPool {

  /**
   * Returns the number of worker threads.
   *
   * @return the number of worker threads
   */
  int threads() default 2;

  /**
   * Returns whether tasks and results are serialized, as over MPI (the default, and the point of
   * testing task code locally).
   *
   * @return whether tasks are serialized
   */
  boolean serializeTasks() default true;
}
