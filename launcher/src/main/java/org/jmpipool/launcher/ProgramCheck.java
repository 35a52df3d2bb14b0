package org.jmpipool.launcher;

import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jmpipool.internal.job.ProgramRunner;

/**
 * Checks, before any MPI process starts, that the program's class exists and can be run, by the
 * runtime's own rule ({@link ProgramRunner#whyNotAnEntryPoint}).
 */
final class ProgramCheck {

  private ProgramCheck() {
  }

  static void check(String className, List<Path> classpath) throws LaunchException {
    String whyNot;
    try (URLClassLoader loader = new URLClassLoader(urls(classpath), ClassLoader.getPlatformClassLoader())) {
      whyNot = ProgramRunner.whyNotAnEntryPoint(load(className, loader, classpath));
    } catch (LinkageError e) {
      throw new LaunchException(LaunchException.USAGE, "class " + className + " cannot be loaded: " + e);
    } catch (IOException e) {
      throw new LaunchException(LaunchException.ENVIRONMENT, "cannot read the classpath: " + e.getMessage());
    }
    if (whyNot != null) {
      throw new LaunchException(LaunchException.USAGE, "class " + className + " " + whyNot);
    }
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
