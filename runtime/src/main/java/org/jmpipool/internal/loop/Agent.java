package org.jmpipool.internal.loop;

/**
 * The work of a communication thread: a loop calls {@link #doWork()} and idles by
 * {@link IdleStrategy} when it did nothing, until {@link #done()}.
 *
 * <p>Threads: the communication thread that runs it, only.
 */
public interface Agent {

  /**
   * Does whatever can be done now without blocking.
   *
   * @return how much was done; 0 lets the thread idle
   */
  int doWork();

  /** Returns whether the agent has finished and the transport may be closed. */
  boolean done();

  /** Returns what the agent waits for when it has nothing to do, which decides how it idles. */
  IdleStrategy.Expecting expecting();

  /**
   * Called when the loop fails; the job is then aborted.
   *
   * @param failure what went wrong
   */
  void onFatal(Throwable failure);
}
