package org.jmpipool.internal.transport;

import java.lang.reflect.InvocationTargetException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Which binding reaches MPI in this JVM. {@code jmpipool.transport} (or {@code
 * JMPIPOOL_TRANSPORT}) says: {@code ffm}, the installed MPI library called through
 * {@code java.lang.foreign} (Java 22 and later, in the jar's Java 22 section); {@code bindings},
 * Open MPI's Java bindings; {@code auto}, the default, the first on Java 22 and later, else the
 * second.
 *
 * <p>Threads: any; the binding is chosen and loaded once per JVM.
 */
public final class MpiBindings {

  /** The system property choosing the transport. */
  public static final String TRANSPORT_PROPERTY = "jmpipool.transport";
  /** The environment variable choosing the transport. */
  public static final String TRANSPORT_VARIABLE = "JMPIPOOL_TRANSPORT";
  /** The first Java version with the foreign function API. */
  public static final int FOREIGN_JAVA = 22;
  private static final String FOREIGN_BINDING = "org.jmpipool.internal.transport.ffm.ForeignBinding";
  private static final String JAVA_BINDINGS = "org.jmpipool.internal.transport.JavaBindings";

  /** The transports. */
  public enum Kind {
    /** The installed MPI library, through java.lang.foreign. */
    FFM,
    /** Open MPI's Java bindings. */
    BINDINGS
  }

  private MpiBindings() {
  }

  /**
   * Resolves the transport setting for a JVM.
   *
   * @param setting {@code auto}, {@code ffm} or {@code bindings} (blank is {@code auto})
   * @param javaFeature the JVM's feature version
   * @return the transport
   * @throws IllegalArgumentException for another setting, or {@code ffm} before Java 22
   */
  public static Kind resolve(String setting, int javaFeature) {
    String value = setting == null || setting.isBlank() ? "auto" : setting.strip().toLowerCase(Locale.ROOT);
    switch (value) {
      case "auto":
        return javaFeature >= FOREIGN_JAVA ? Kind.FFM : Kind.BINDINGS;
      case "ffm":
        if (javaFeature < FOREIGN_JAVA) {
          throw new IllegalArgumentException("the ffm transport (java.lang.foreign) needs Java " + FOREIGN_JAVA
              + " or later, and this is Java " + javaFeature + ": use Java " + FOREIGN_JAVA + "+, or the bindings transport");
        }
        return Kind.FFM;
      case "bindings":
        return Kind.BINDINGS;
      default:
        throw new IllegalArgumentException(TRANSPORT_PROPERTY + " is auto, ffm or bindings, not '" + setting + "'");
    }
  }

  /** Returns the transport this JVM uses, from the property or environment variable. */
  public static Kind chosen() {
    String setting = System.getProperty(TRANSPORT_PROPERTY);
    if (setting == null || setting.isBlank()) {
      setting = System.getenv(TRANSPORT_VARIABLE);
    }
    try {
      return resolve(setting, Runtime.version().feature());
    } catch (IllegalArgumentException e) {
      throw new TransportException(e.getMessage(), e);
    }
  }

  /**
   * Returns the binding of this JVM's transport, MPI not initialized.
   *
   * @throws TransportException when it cannot be had, in one line saying why
   */
  static MpiBinding load() {
    return chosen() == Kind.BINDINGS ? javaBindings() : foreign(pinnedLibrary());
  }

  /** Returns whether this jmpipool was built with Open MPI's Java bindings (its build had their jar). */
  public static boolean builtWithJavaBindings() {
    return MpiBindings.class.getResource("JavaBindings.class") != null;
  }

  /**
   * Returns the binding over Open MPI's Java bindings. It is compiled only when the build had
   * the bindings jar, and, when this runtime is a named module, reads their module only once
   * they are found: the module does not require them.
   */
  private static MpiBinding javaBindings() {
    Class<?> mpi;
    try {
      mpi = Class.forName("mpi.MPI");
    } catch (ClassNotFoundException | LinkageError e) {
      throw new TransportException("Open MPI's Java bindings (mpi.jar) are not on the class path: launch with"
          + " bin/jmpipool, which finds them, or use the ffm transport (Java " + FOREIGN_JAVA + "+)", e);
    }
    MpiBindings.class.getModule().addReads(mpi.getModule());
    try {
      return (MpiBinding) Class.forName(JAVA_BINDINGS).getDeclaredConstructor().newInstance();
    } catch (ClassNotFoundException e) {
      throw new TransportException("this jmpipool jar was built without Open MPI's Java bindings (its build had no"
          + " mpi.jar): use the ffm transport (Java " + FOREIGN_JAVA + "+), or rebuild after"
          + " packaging/provision-mpi.sh", e);
    } catch (ReflectiveOperationException e) {
      throw new TransportException("cannot use Open MPI's Java bindings: " + e, e);
    }
  }

  /**
   * Checks, without initializing MPI, that this JVM can reach MPI by its transport: what a
   * spawned worker's {@code --check} verifies before MPI is asked to start any.
   *
   * @throws TransportException saying what is missing
   */
  public static void check() {
    if (chosen() == Kind.BINDINGS) {
      javaBindings();
    } else {
      foreign(pinnedLibrary());
    }
  }

  /**
   * Returns the library the ffm transport loads in this JVM: {@code jmpipool.libmpi}, else the
   * one found, which is then pinned there: spawned workers get this JVM's {@code jmpipool.*}
   * properties, so they load the same library without looking.
   */
  public static synchronized Path pinnedLibrary() {
    String named = System.getProperty(MpiInstallation.LIBRARY_PROPERTY);
    if (named == null || named.isBlank()) {
      named = ((ForeignLibrary) discover(new MpiInstallation(System.getenv()))).file().toString();
      System.setProperty(MpiInstallation.LIBRARY_PROPERTY, named);
    }
    return Path.of(named);
  }

  /**
   * Finds and loads the MPI library a JVM without the launcher uses: next to the {@code mpiexec}
   * on PATH, else elsewhere ({@link MpiInstallation#libraryCandidates}); the first that loads and
   * is of that {@code mpiexec}'s family (an unversioned libmpi.so may be the other family's).
   */
  private static MpiBinding discover(MpiInstallation installation) {
    MpiInstallation.LaunchProgram program = installation.launchProgram(null).orElse(null);
    MpiInstallation.Family family = program == null ? null : program.family();
    List<Path> candidates = installation.libraryCandidates(program, family);
    List<String> refusals = new ArrayList<>();
    for (Path candidate : candidates) {
      try {
        MpiBinding binding = foreign(candidate);
        if (family == null || binding.family() == family || candidates.size() == 1) {
          return binding;
        }
        refusals.add(candidate + " is " + binding.family().title() + "'s, and mpiexec " + family.title() + "'s");
      } catch (TransportException e) {
        refusals.add(e.getMessage());
      }
    }
    throw new TransportException("no MPI library found (" + (candidates.isEmpty() ? "none next to mpiexec, in MPI_HOME,"
        + " LD_LIBRARY_PATH or the linker cache" : String.join("; ", refusals)) + "): set "
        + MpiInstallation.LIBRARY_VARIABLE + " to the library's file, such as libmpi.so.40 or libmpich.so.12");
  }

  /**
   * Loads an MPI library through the foreign-function binding, without initializing MPI.
   *
   * @param file the library
   * @return the binding
   * @throws TransportException when this JVM or jar has no foreign-function binding, or the
   *     library cannot be used: one line naming the file
   */
  public static MpiBinding foreign(Path file) {
    if (Runtime.version().feature() < FOREIGN_JAVA) {
      throw new TransportException("the ffm transport needs Java " + FOREIGN_JAVA + " or later");
    }
    try {
      return (MpiBinding) Class.forName(FOREIGN_BINDING).getMethod("load", Path.class).invoke(null, file);
    } catch (InvocationTargetException e) {
      if (e.getCause() instanceof TransportException failure) {
        throw failure;
      }
      throw new TransportException("cannot load " + file + ": " + e.getCause(), e.getCause());
    } catch (ReflectiveOperationException e) {
      throw new TransportException("this jmpipool jar was built without the ffm transport (it needs a JDK "
          + FOREIGN_JAVA + "+ at build time): use the bindings transport", e);
    }
  }

  /** A binding over a library file. */
  public interface ForeignLibrary extends MpiBinding {

    /** Returns the library's file. */
    Path file();
  }

  /** Returns the system properties that make a rank use a transport (and, for ffm, a library). */
  public static Map<String, String> properties(Kind kind, Path library) {
    return kind == Kind.FFM
        ? Map.of(TRANSPORT_PROPERTY, "ffm", MpiInstallation.LIBRARY_PROPERTY, library.toString())
        : Map.of(TRANSPORT_PROPERTY, "bindings");
  }
}
