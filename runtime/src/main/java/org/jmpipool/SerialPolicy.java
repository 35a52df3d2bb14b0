package org.jmpipool;

import java.util.Locale;

/**
 * What happens when the default executor would run tasks one at a time: a launched job of a
 * single rank (no worker ranks), or a default pool of a single worker. Chosen by the system
 * property {@code jmpipool.serial}, else the environment variable {@code JMPIPOOL_SERIAL}
 * ({@code raise}, {@code warn}, {@code ignore}); the default is {@link #WARN}.
 */
public enum SerialPolicy {

  /** Refuse: the executor is not created, and the error says how to get workers. */
  RAISE,

  /** Run the tasks one at a time, after one warning line on standard error. */
  WARN,

  /** Run the tasks one at a time, silently. */
  IGNORE;

  /**
   * Parses a policy name as given in a system property or environment variable.
   *
   * @param name {@code raise}, {@code warn} or {@code ignore}, in any case
   * @return the policy
   * @throws IllegalArgumentException for any other name
   */
  public static SerialPolicy parse(String name) {
    try {
      return valueOf(name.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("unknown jmpipool serial policy '" + name + "': use raise, warn or ignore", e);
    }
  }
}
