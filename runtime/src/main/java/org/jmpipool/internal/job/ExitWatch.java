package org.jmpipool.internal.job;

import java.util.concurrent.atomic.AtomicBoolean;
import sun.misc.Signal;

/**
 * How a rank's JVM reacts to an end nobody planned: a SIGTERM or SIGINT (received, or relayed
 * from a worker), or System.exit called before the job ended. Once {@link #install installed},
 * a shutdown hook runs the exit action, and handlers for SIGTERM and SIGINT run the signal
 * action. The handlers use {@code sun.misc.Signal} (module jdk.unsupported): a shutdown hook
 * alone cannot tell a signal from a call to System.exit, and the two need different endings.
 *
 * <p>However many signals come at once, from this process or relayed, the signal action runs
 * once. Once {@link #disarm() disarmed} (the job is ending anyway), a signal this process
 * receives exits at once with the conventional status, 128 + its number.
 *
 * <p>Threads: the handlers run on the JVM's signal threads, a relayed signal on a thread of its
 * own; the program's thread calls {@link #yieldToSignal()} and {@link #disarm()}.
 */
public final class ExitWatch {

  /** Handles a signal that ends the job. */
  @FunctionalInterface
  public interface SignalAction {
    /**
     * Runs for the first signal, on the thread that brought it.
     *
     * @param who the process that received it, for messages ("master", "worker rank 2")
     * @param name the signal's name, such as {@code TERM}
     * @param number its number
     */
    void handle(String who, String name, int number);
  }

  private final String self;
  private final SignalAction onSignal;
  private final AtomicBoolean signalled = new AtomicBoolean();
  private volatile boolean armed = true;

  /**
   * Creates the watch, which does nothing until installed.
   *
   * @param self this process, for messages ("master", "worker rank 2")
   * @param onSignal runs for the first SIGTERM or SIGINT: the job is being ended from outside
   */
  public ExitWatch(String self, SignalAction onSignal) {
    this.self = self;
    this.onSignal = onSignal;
  }

  /**
   * Installs the shutdown hook and the signal handlers.
   *
   * @param onExit runs when the JVM exits early for another reason than a signal: System.exit
   * @return this watch
   */
  public ExitWatch install(Runnable onExit) {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      if (armed && !signalled.get()) {
        onExit.run();
      }
    }, "jmpipool-exit"));
    for (String name : new String[] {"TERM", "INT"}) {
      try {
        Signal.handle(new Signal(name), received -> {
          if (!armed) {
            System.exit(128 + received.getNumber());
          }
          received(self, received.getName(), received.getNumber());
        });
      } catch (IllegalArgumentException e) {
        // The JVM keeps this signal for itself (-Xrs): its default handling stays.
      }
    }
    return this;
  }

  /** Handles a signal another process received, on a thread of its own; any thread. */
  public void relay(String who, String name, int number) {
    Thread handler = new Thread(() -> received(who, name, number), "jmpipool-signal-relay");
    handler.setDaemon(true);
    handler.start();
  }

  /**
   * A signal came: the first one, while armed, runs the signal action on the calling thread.
   *
   * @param who the process that received it
   */
  void received(String who, String name, int number) {
    if (armed && signalled.compareAndSet(false, true)) {
      onSignal.handle(who, name, number);
    }
  }

  /**
   * Leaves the end of the job to a signal's handler, if a signal came: it ends the JVM with
   * the signal's status once the pools are drained, so this thread must not end it first.
   */
  public void yieldToSignal() {
    while (signalled.get()) {
      try {
        Thread.sleep(Long.MAX_VALUE);
      } catch (InterruptedException e) {
        // Keep waiting: only the handler ends the JVM now.
      }
    }
  }

  /** The job is ending in order: signals no longer run the action. */
  public void disarm() {
    armed = false;
  }
}
