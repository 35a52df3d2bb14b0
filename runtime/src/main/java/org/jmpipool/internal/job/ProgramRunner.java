package org.jmpipool.internal.job;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import org.jmpipool.MpiPoolExecutor;
import org.jmpipool.PoolApplication;

/** Finds and runs the user's program on the master. */
public final class ProgramRunner {

  private ProgramRunner() {
  }

  /**
   * Resolves the program's entry point, or explains in one line why there is none.
   *
   * @param className the class given on the command line
   * @return the entry point
   * @throws IllegalArgumentException with the explanation
   */
  public static Program resolve(String className) {
    Class<?> type;
    try {
      type = Class.forName(className, false, Thread.currentThread().getContextClassLoader());
    } catch (ClassNotFoundException | LinkageError e) {
      throw new IllegalArgumentException("class " + className + " not found on the classpath ("
          + System.getProperty("java.class.path") + ")");
    }
    if (PoolApplication.class.isAssignableFrom(type)) {
      return (pool, args) -> {
        PoolApplication application = (PoolApplication) type.getDeclaredConstructor().newInstance();
        application.run(pool, args);
      };
    }
    Method main;
    try {
      main = type.getMethod("main", String[].class);
    } catch (NoSuchMethodException e) {
      main = null;
    }
    if (main == null || !Modifier.isStatic(main.getModifiers()) || main.getReturnType() != void.class) {
      throw new IllegalArgumentException("class " + className
          + " has no public static void main(String[]) and does not implement " + PoolApplication.class.getName());
    }
    Method entry = main;
    return (pool, args) -> {
      try {
        entry.invoke(null, (Object) args);
      } catch (InvocationTargetException e) {
        throw e.getCause();
      }
    };
  }

  /** A resolved program. */
  @FunctionalInterface
  public interface Program {
    void run(MpiPoolExecutor pool, String[] args) throws Throwable;
  }
}
