package org.jmpipool.launcher;

import java.util.List;
import java.util.stream.Collectors;

/** Quotes command lines for POSIX shells. */
final class Shell {

  private Shell() {
  }

  /**
   * Quotes every word that a shell would otherwise change.
   *
   * @param words the command and its arguments
   * @return a line that a POSIX shell reads back as exactly these words
   */
  static String quote(List<String> words) {
    return words.stream().map(Shell::quote).collect(Collectors.joining(" "));
  }

  static String quote(String word) {
    if (!word.isEmpty() && word.chars().allMatch(Shell::isPlain)) {
      return word;
    }
    return "'" + word.replace("'", "'\\''") + "'";
  }

  private static boolean isPlain(int c) {
    return Character.isLetterOrDigit(c) && c < 128 || "-_./:=,+@%".indexOf(c) >= 0;
  }
}
