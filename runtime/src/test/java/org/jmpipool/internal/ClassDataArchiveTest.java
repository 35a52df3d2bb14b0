package org.jmpipool.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where the class-data archives of ranks and workers live, when one is made, used, or given up. A stand-in
 * {@code java} (a shell script) plays the training JVM: it writes the file named by
 * {@code -XX:ArchiveClassesAtExit}, or fails, and counts its runs.
 */
class ClassDataArchiveTest {

  @TempDir
  Path directory;

  @Test
  void theEnvironmentNamesTheDirectoryOrTurnsArchivesOff() {
    assertNull(ClassDataArchive.of(Map.of("HOME", "/home/u", ClassDataArchive.SWITCH_VARIABLE, "off")));
    assertNull(ClassDataArchive.of(Map.of()), "no home, no cache");
    assertTrue(ClassDataArchive.userDecides(List.of("-Xmx1g", "-Xshare:off")));
    assertTrue(ClassDataArchive.userDecides(List.of("-XX:SharedArchiveFile=/x.jsa")));
    assertFalse(ClassDataArchive.userDecides(List.of("-Xmx1g", "-XX:+UseParallelGC")));
  }

  @Test
  void aMissingArchiveIsMadeOnceThenUsed() throws Exception {
    Path java = fakeJava("touch \"$archive\"");
    ClassDataArchive archives = ClassDataArchive.of(Map.of(ClassDataArchive.DIRECTORY_VARIABLE, directory.toString()));
    List<String> said = new ArrayList<>();
    List<String> first = archives.jvmOptions(java.toString(), List.of("-XX:+UseSerialGC"), "lib/*", List.of(), true,
        said::add);
    Path archive = Path.of(first.get(first.size() - 1).substring("-XX:SharedArchiveFile=".length()));
    assertTrue(Files.isRegularFile(archive), first.toString());
    assertTrue(first.contains("-Xlog:cds=off"), "an archive that does not fit is ignored silently");
    assertEquals(first, archives.jvmOptions(java.toString(), List.of("-XX:+UseSerialGC"), "lib/*", List.of(), true,
        said::add));
    assertEquals(1, runs(), "made once");
    assertEquals(1, said.size(), said.toString());
    try (var files = Files.list(directory)) {
      assertEquals(List.of(archive), files.filter(file -> file.getFileName().toString().startsWith("rank-")).toList(),
          "no partial file left");
    }
  }

  @Test
  void anotherJarOrOptionMeansAnotherArchive() throws Exception {
    Path java = fakeJava("touch \"$archive\"");
    Path jar = Files.writeString(directory.resolve("runtime.jar"), "first");
    ClassDataArchive archives = ClassDataArchive.of(Map.of(ClassDataArchive.DIRECTORY_VARIABLE,
        directory.resolve("cds").toString()));
    List<String> before = archives.jvmOptions(java.toString(), List.of(), "lib/*", List.of(jar), true, word -> { });
    Files.writeString(jar, "second, longer");
    List<String> afterJar = archives.jvmOptions(java.toString(), List.of(), "lib/*", List.of(jar), true, word -> { });
    List<String> otherOption = archives.jvmOptions(java.toString(), List.of("-Dx=1"), "lib/*", List.of(jar), true,
        word -> { });
    assertNotEquals(before, afterJar);
    assertNotEquals(afterJar, otherOption);
    assertEquals(3, runs());
  }

  @Test
  void aFailedTrainingLeavesNoArchiveAndIsNotRetriedAtOnce() throws Exception {
    Path java = fakeJava("echo 'no CDS here' >&2; exit 1");
    ClassDataArchive archives = ClassDataArchive.of(Map.of(ClassDataArchive.DIRECTORY_VARIABLE, directory.toString()));
    List<String> said = new ArrayList<>();
    assertEquals(List.of(), archives.jvmOptions(java.toString(), List.of(), "lib/*", List.of(), true, said::add));
    assertTrue(said.get(0).contains("exit 1") && said.get(0).contains("no CDS here"), said.toString());
    assertEquals(List.of(), archives.jvmOptions(java.toString(), List.of(), "lib/*", List.of(), true, said::add));
    assertEquals(1, runs(), "not retried within a day");
  }

  @Test
  void aDryRunMakesNothingAndArchivesUnusedForAMonthGo() throws Exception {
    Path java = fakeJava("touch \"$archive\"");
    ClassDataArchive archives = ClassDataArchive.of(Map.of(ClassDataArchive.DIRECTORY_VARIABLE, directory.toString()));
    assertEquals(List.of(), archives.jvmOptions(java.toString(), List.of(), "lib/*", List.of(), false, word -> { }));
    assertEquals(0, runs());
    Path stale = Files.writeString(directory.resolve("rank-0000.jsa"), "");
    Files.setLastModifiedTime(stale, FileTime.from(Instant.now().minus(Duration.ofDays(40))));
    archives.jvmOptions(java.toString(), List.of(), "lib/*", List.of(), true, word -> { });
    assertFalse(Files.exists(stale));
  }

  /** A stand-in java: counts its runs, then runs {@code body} with {@code $archive} the file to write. */
  private Path fakeJava(String body) throws IOException {
    Path java = directory.resolve("bin").resolve("java");
    Files.createDirectories(java.getParent());
    Files.writeString(java, "#!/bin/sh\necho run >> '" + directory.resolve("runs") + "'\n"
        + "archive=$(echo \"$1\" | sed 's/^-XX:ArchiveClassesAtExit=//')\n" + body + "\n");
    Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
    return java;
  }

  private int runs() throws IOException {
    Path runs = directory.resolve("runs");
    return Files.exists(runs) ? Files.readAllLines(runs).size() : 0;
  }
}
