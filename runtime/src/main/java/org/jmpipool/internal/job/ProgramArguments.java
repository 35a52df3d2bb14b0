package org.jmpipool.internal.job;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jmpipool.internal.transport.Transport;

/**
 * A program's arguments passed to rank 0 in a file instead of on the command line, when they are
 * too long for it (Open MPI hands the ranks' whole command line to each rank in one environment
 * variable, and Linux refuses a single string over 128 KiB). The file holds each argument's bytes
 * followed by a NUL byte, as {@code printf '%s\0' "$@"} writes them; rank 0 decodes them as the
 * JVM decodes a command line (by {@code sun.jnu.encoding}), so the program sees what plain
 * {@code java} would show it, and deletes the file.
 *
 * <p>Threads: the launcher's main thread encodes; rank 0's main thread reads and deletes the file.
 */
public final class ProgramArguments {

  /** The system property naming the file, set on every rank; only rank 0 reads it. */
  public static final String FILE_PROPERTY = "jmpipool.argumentsFile";

  private ProgramArguments() {
  }

  /**
   * Encodes arguments for the file, as the JVM encodes a command line.
   *
   * @param arguments the arguments
   * @return the file's content
   */
  public static byte[] encode(List<String> arguments) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    for (String argument : arguments) {
      bytes.writeBytes(argument.getBytes(commandLineCharset()));
      bytes.write(0);
    }
    return bytes.toByteArray();
  }

  /**
   * Decodes the content of an arguments file.
   *
   * @param content each argument followed by a NUL byte
   * @return the arguments
   */
  static List<String> decode(byte[] content) {
    List<String> arguments = new ArrayList<>();
    int start = 0;
    for (int i = 0; i < content.length; i++) {
      if (content[i] == 0) {
        arguments.add(new String(content, start, i - start, commandLineCharset()));
        start = i + 1;
      }
    }
    return arguments;
  }

  /**
   * Reads and deletes the arguments file named by {@link #FILE_PROPERTY}, if there is one.
   *
   * @param inline the arguments on the command line, returned when there is no file
   * @return the program's arguments
   * @throws IllegalStateException when the file cannot be read here
   */
  public static String[] readIfPassed(String[] inline) {
    String file = System.getProperty(FILE_PROPERTY);
    if (file == null || file.isEmpty()) {
      return inline;
    }
    Path path = Path.of(file);
    try {
      byte[] content = Files.readAllBytes(path);
      Files.deleteIfExists(path);
      return decode(content).toArray(new String[0]);
    } catch (IOException e) {
      throw new IllegalStateException("the program's arguments, too long for MPI's command line, were passed in"
          + " the file " + file + ", which rank 0 on host " + Transport.localHostName() + " cannot read (" + e + "): set TMPDIR"
          + " to a directory every node sees, or start the launcher on rank 0's node");
    }
  }

  private static Charset commandLineCharset() {
    String name = System.getProperty("sun.jnu.encoding");
    try {
      return name == null ? Charset.defaultCharset() : Charset.forName(name);
    } catch (IllegalArgumentException e) {
      return Charset.defaultCharset();
    }
  }
}
