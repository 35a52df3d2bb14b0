package org.jmpipool.launcher;

import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks, before any MPI process starts, that the program's class exists and can be run: a public
 * static main(String[]), or an implementation of org.jmpipool.PoolApplication.
 */
final class ProgramCheck {

  private static final String POOL_APPLICATION = "org.jmpipool.PoolApplication";

  private ProgramCheck() {
  }

  static void check(String className, List<Path> classpath) throws LaunchException {
    try (URLClassLoader loader = new URLClassLoader(urls(classpath), ClassLoader.getPlatformClassLoader())) {
      Class<?> type = load(className, loader, classpath);
      if (loader.loadClass(POOL_APPLICATION).isAssignableFrom(type)) {
        return;
      }
      Method main = type.getMethod("main", String[].class);
      // As java requires: static, and void (java refuses a main returning int).
      if (Modifier.isStatic(main.getModifiers()) && main.getReturnType() == void.class) {
        return;
      }
    } catch (NoSuchMethodException | ClassNotFoundException e) {
      // Reported below.
    } catch (LinkageError e) {
      throw new LaunchException(LaunchException.USAGE, "class " + className + " cannot be loaded: " + e);
    } catch (IOException e) {
      throw new LaunchException(LaunchException.ENVIRONMENT, "cannot read the classpath: " + e.getMessage());
    }
    throw new LaunchException(LaunchException.USAGE, "class " + className
        + " has no public static void main(String[]) and does not implement " + POOL_APPLICATION);
  }

  private static Class<?> load(String className, ClassLoader loader, List<Path> classpath) throws LaunchException {
    try {
      return Class.forName(className, false, loader);
    } catch (ClassNotFoundException e) {
      throw new LaunchException(LaunchException.USAGE, "class " + className + " not found on the classpath "
          + classpath + " (set it with -cp)");
    }
  }

  private static URL[] urls(List<Path> classpath) throws LaunchException {
    List<URL> urls = new ArrayList<>();
    for (Path entry : classpath) {
      try {
        urls.add(entry.toUri().toURL());
      } catch (MalformedURLException e) {
        throw new LaunchException(LaunchException.USAGE, "bad classpath entry " + entry + ": " + e.getMessage());
      }
    }
    return urls.toArray(new URL[0]);
  }
}
