package org.jmpipool.internal.job;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import org.jmpipool.MpiPoolExecutor;
import org.jmpipool.PoolApplication;

/**
 * What may be a launched program's entry point, and running it on the master: a class with a
 * {@code public static void main(String[])}, as {@code java} requires, or an implementation of
 * {@link PoolApplication}. The launcher checks the same rule before any rank starts.
 *
 * <p>Threads: the master's main thread; the launcher's.
 */
public final class ProgramRunner {

  private ProgramRunner() {
  }

  /** A resolved program. */
  @FunctionalInterface
  public interface Program {
    void run(MpiPoolExecutor pool, String[] args) throws Throwable;
  }

  /**
   * Says why a class cannot be a program's entry point.
   *
   * @param type the class, from any class loader (the launcher loads it in one of its own)
   * @return why not, completing "class NAME ...", or {@code null} when it can
   */
  public static String whyNotAnEntryPoint(Class<?> type) {
    if (isPoolApplication(type) || mainMethod(type) != null) {
      return null;
    }
    return "has no public static void main(String[]) and does not implement " + PoolApplication.class.getName();
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
    String whyNot = whyNotAnEntryPoint(type);
    if (whyNot != null) {
      throw new IllegalArgumentException("class " + className + " " + whyNot);
    }
    if (isPoolApplication(type)) {
      return (pool, args) -> {
        PoolApplication application = (PoolApplication) type.getDeclaredConstructor().newInstance();
        application.run(pool, args);
      };
    }
    Method main = mainMethod(type);
    return (pool, args) -> {
      try {
        main.invoke(null, (Object) args);
      } catch (InvocationTargetException e) {
        throw e.getCause();
      }
    };
  }

  /** By name, so that it holds for a class loaded where this class is not. */
  private static boolean isPoolApplication(Class<?> type) {
    for (Class<?> c = type; c != null; c = c.getSuperclass()) {
      for (Class<?> implemented : c.getInterfaces()) {
        if (implemented.getName().equals(PoolApplication.class.getName()) || isPoolApplication(implemented)) {
          return true;
        }
      }
    }
    return false;
  }

  /** Returns {@code public static void main(String[])}, as {@code java} requires it (not returning int), or {@code null}. */
  private static Method mainMethod(Class<?> type) {
    try {
      Method main = type.getMethod("main", String[].class);
      return Modifier.isStatic(main.getModifiers()) && main.getReturnType() == void.class ? main : null;
    } catch (NoSuchMethodException e) {
      return null;
    }
  }
}
