package org.jmpipool;

import java.util.Locale;

/**
 * Where a pool's workers run. The default executor ({@link Jmpipool#executor()}) uses the backend
 * chosen by {@link Jmpipool#useBackend(Backend)}, else by the system property
 * {@code jmpipool.backend}, else by the environment variable {@code JMPIPOOL_BACKEND} (values
 * {@code mpi}, {@code spawn}, {@code local}), else {@link #MPI} in a program started by the
 * launcher and {@link #LOCAL} anywhere else.
 */
public enum Backend {

  /** The other ranks of the MPI job this program was started in by the launcher. */
  MPI,

  /** Worker JVMs started from this JVM through MPI's dynamic process management. */
  SPAWN,

  /** Worker threads in this JVM; by default tasks and results are still serialized. */
  LOCAL;

  /**
   * Parses a backend name as given in a system property or environment variable.
   *
   * @param name {@code mpi}, {@code spawn} or {@code local}, in any case
   * @return the backend
   * @throws IllegalArgumentException for any other name, listing the valid ones
   */
  public static Backend parse(String name) {
    try {
      return valueOf(name.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("unknown jmpipool backend '" + name + "': use mpi, spawn or local", e);
    }
  }
}
