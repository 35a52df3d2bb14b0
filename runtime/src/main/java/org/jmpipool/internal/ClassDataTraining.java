package org.jmpipool.internal;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.IntStream;
import org.jmpipool.MpiPoolExecutor;
import org.jmpipool.SerializableCallable;
import org.jmpipool.SerializableFunction;
import org.jmpipool.internal.master.PoolOptions;
import org.jmpipool.internal.transport.MpiBindings;
import org.jmpipool.internal.transport.TransportException;
import org.slf4j.LoggerFactory;

/**
 * Loads what a rank loads, so that a JVM run with {@code -XX:ArchiveClassesAtExit} writes a
 * class-data archive that ranks then start from (the launcher runs it once per Java and
 * installation, see its {@code ClassDataArchive}): with it, a rank JVM maps the classes instead of
 * reading, parsing and verifying each.
 *
 * <p>It starts logging, runs tasks through a local pool with serialization (master and worker
 * agents, codec, Kryo's serializers, futures and maps, a failing task); for ranks on
 * java.lang.foreign, loads their MPI library and makes the call of every function they use (the
 * JDK's classes for native calls are most of such a rank's start otherwise: 0.25 s of a 3-rank job
 * here); then loads, without initializing, every other class of the runtime and of Open MPI's Java
 * bindings when they are on the classpath: no MPI is started here.
 *
 * <pre>java -XX:ArchiveClassesAtExit=ARCHIVE RANK_OPTIONS -cp RUNTIME_CLASSPATH org.jmpipool.internal.ClassDataTraining</pre>
 */
public final class ClassDataTraining {

  private ClassDataTraining() {
  }

  /**
   * Runs the training.
   *
   * @param args none
   * @throws Exception when the local pool fails, which fails the training and so the archive
   */
  public static void main(String[] args) throws Exception {
    LoggerFactory.getLogger(ClassDataTraining.class).debug("loading what ranks load");
    try (MpiPoolExecutor pool = Pools.local(1, true, new PoolOptions(1, null, 1))) {
      SerializableFunction<Integer, Integer> increment = x -> x + 1;
      if (pool.map(increment, IntStream.range(0, 100).boxed().toList()).toList().size() != 100) {
        throw new IllegalStateException("the training map lost results");
      }
      SerializableCallable<String> text = () -> "text";
      pool.submit(text).get();
      SerializableCallable<Object> failing = () -> {
        throw new IllegalStateException("a failure, for its classes");
      };
      try {
        pool.submit(failing).get();
      } catch (ExecutionException expected) {
        // Its classes are loaded.
      }
    }
    if (MpiBindings.chosen() == MpiBindings.Kind.FFM) {
      try {
        MpiBindings.foreign(MpiBindings.pinnedLibrary()).prepareCalls();
      } catch (TransportException e) {
        // The ranks will say why they cannot use the library; the rest of the archive still helps.
      }
    }
    loadEveryClass(ClassDataTraining.class, "org/jmpipool/");
    try {
      loadEveryClass(Class.forName("mpi.MPI", false, ClassDataTraining.class.getClassLoader()), "mpi/");
    } catch (ClassNotFoundException e) {
      // Not the bindings transport.
    }
  }

  /** Loads, without initializing, the classes under a package prefix in the jar a class came from. */
  private static void loadEveryClass(Class<?> from, String prefix) throws IOException, URISyntaxException {
    Path jar = Path.of(from.getProtectionDomain().getCodeSource().getLocation().toURI());
    if (!jar.toString().endsWith(".jar")) {
      return;
    }
    ClassLoader loader = ClassDataTraining.class.getClassLoader();
    try (JarFile file = new JarFile(jar.toFile())) {
      List<String> names = file.stream().map(JarEntry::getName)
          .filter(name -> name.startsWith(prefix) && name.endsWith(".class") && !name.contains("-"))
          .map(name -> name.substring(0, name.length() - ".class".length()).replace('/', '.')).toList();
      for (String name : names) {
        try {
          Class.forName(name, false, loader);
        } catch (ClassNotFoundException | LinkageError e) {
          // A class of a newer Java or of an absent optional part: ranks cannot load it either.
        }
      }
    }
  }
}
