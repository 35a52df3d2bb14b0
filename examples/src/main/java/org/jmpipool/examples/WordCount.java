package org.jmpipool.examples;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.jmpipool.Jmpipool;
import org.jmpipool.MapResults;
import org.jmpipool.MpiPoolExecutor;

/**
 * Counts words in text files: each task reads one file where it runs (the ranks share the file
 * system, as on one node or a cluster's shared storage) and returns its counts; the master adds
 * them up and prints the most frequent words.
 *
 * <pre>bin/jmpipool -n 4 org.jmpipool.examples.WordCount FILE_OR_DIRECTORY...</pre>
 */
public final class WordCount {

  private static final Pattern NON_LETTERS = Pattern.compile("[^\\p{L}']+");

  private WordCount() {
  }

  /**
   * Runs the count.
   *
   * @param args files, or directories whose regular files are all read
   * @throws IOException when a directory cannot be listed
   */
  public static void main(String[] args) throws IOException {
    if (args.length == 0) {
      System.err.println("usage: WordCount FILE_OR_DIRECTORY...");
      System.exit(2);
    }
    List<String> files = new ArrayList<>();
    for (String arg : args) {
      try (Stream<Path> paths = Files.walk(Path.of(arg))) {
        paths.filter(Files::isRegularFile).map(path -> path.toAbsolutePath().toString()).forEach(files::add);
      }
    }
    MpiPoolExecutor pool = Jmpipool.executor();
    Map<String, Long> totals = new HashMap<>();
    try (MapResults<Map<String, Long>> counts = pool.map(WordCount::countWords, files)) {
      for (Map<String, Long> count : counts) {
        count.forEach((word, n) -> totals.merge(word, n, Long::sum));
      }
    }
    long words = totals.values().stream().mapToLong(Long::longValue).sum();
    System.out.printf("%,d words (%,d distinct) in %d files, counted by %d workers; most frequent:%n",
        words, totals.size(), files.size(), pool.workers());
    totals.entrySet().stream()
        .sorted(Map.Entry.<String, Long>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
        .limit(10)
        .forEach(entry -> System.out.printf("  %-16s %,d%n", entry.getKey(), entry.getValue()));
  }

  static Map<String, Long> countWords(String file) {
    Map<String, Long> counts = new HashMap<>();
    try (Stream<String> lines = Files.lines(Path.of(file), StandardCharsets.UTF_8)) {
      lines.flatMap(NON_LETTERS::splitAsStream)
          .filter(word -> !word.isEmpty())
          .forEach(word -> counts.merge(word.toLowerCase(Locale.ROOT), 1L, Long::sum));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    } catch (UncheckedIOException e) {
      throw new UncheckedIOException("cannot read " + file + " as UTF-8 text", e.getCause());
    }
    return counts;
  }
}
