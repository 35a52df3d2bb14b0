package org.jmpipool.internal.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProgramArgumentsTest {

  @TempDir
  Path temp;

  @Test
  void argumentsRoundTripThroughTheFileAndTheFileIsDeleted() throws Exception {
    List<String> arguments = List.of("", "two words", "--", "@file", "line\nbreak", "x".repeat(200_000));
    Path file = temp.resolve("args");
    Files.write(file, ProgramArguments.encode(arguments));
    System.setProperty(ProgramArguments.FILE_PROPERTY, file.toString());
    try {
      assertArrayEquals(arguments.toArray(new String[0]), ProgramArguments.readIfPassed(new String[] {"ignored"}));
    } finally {
      System.clearProperty(ProgramArguments.FILE_PROPERTY);
    }
    assertFalse(Files.exists(file), "rank 0 deletes the file");
  }

  @Test
  void withoutAFileTheCommandLineArgumentsStand() {
    assertArrayEquals(new String[] {"a"}, ProgramArguments.readIfPassed(new String[] {"a"}));
  }

  @Test
  void aShellWrittenFileDecodes() {
    // printf '%s\0' "a b" "" writes each argument and a NUL.
    assertEquals(List.of("a b", ""), ProgramArguments.decode(new byte[] {'a', ' ', 'b', 0, 0}));
  }
}
