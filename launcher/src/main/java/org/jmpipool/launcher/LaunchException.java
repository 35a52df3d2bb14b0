package org.jmpipool.launcher;

/** A request the launcher cannot carry out, explained in one line, with the exit status to use. */
final class LaunchException extends Exception {
  private static final long serialVersionUID = 1L;

  /** The command line asks for something impossible: unknown class, bad option value. */
  static final int USAGE = 2;
  /** The machine lacks something the job needs: mpirun, srun, the Java bindings. */
  static final int ENVIRONMENT = 3;

  private final int exitStatus;

  LaunchException(int exitStatus, String message) {
    super(message);
    this.exitStatus = exitStatus;
  }

  int exitStatus() {
    return exitStatus;
  }
}
