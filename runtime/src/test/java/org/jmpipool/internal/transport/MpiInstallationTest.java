package org.jmpipool.internal.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Finding the MPI launch program: each program is asked once per installation, ahead or not. */
@Timeout(30)
class MpiInstallationTest {

  @TempDir
  Path directory;

  @Test
  void aLookAheadAsksEachProgramOnceAndWhoAsksMeanwhileWaitsForItsAnswer() throws Exception {
    Path mpirun = fakeProgram("mpirun.openmpi", "sleep 0.5; echo 'mpirun (Open MPI) 4.1.4'");
    MpiInstallation installation = new MpiInstallation(Map.of("PATH", directory.toString()));
    CompletableFuture<MpiInstallation.LaunchProgram> followedUp = new CompletableFuture<>();
    installation.findAhead(MpiInstallation.Family.OPEN_MPI, followedUp::complete);
    awaitRuns(1);
    MpiInstallation.LaunchProgram found = installation.launchProgram(MpiInstallation.Family.OPEN_MPI).orElseThrow();
    assertEquals(new MpiInstallation.LaunchProgram(mpirun, MpiInstallation.Family.OPEN_MPI, "mpirun (Open MPI) 4.1.4"),
        found);
    assertEquals(found, followedUp.get(5, TimeUnit.SECONDS), "the look-ahead's follow-up gets the program");
    assertEquals(found, installation.identify(mpirun).orElseThrow());
    assertEquals(1, runs(), "asked once");
    assertTrue(new MpiInstallation(Map.of("PATH", directory.toString())).identify(mpirun).isPresent());
    assertEquals(2, runs(), "another installation asks again");
  }

  @Test
  void aProgramThatIsNoMpiLauncherIsNotOneWhoeverAsks() throws Exception {
    fakeProgram("mpiexec", "echo 'something else 1.0'");
    MpiInstallation installation = new MpiInstallation(Map.of("PATH", directory.toString()));
    CompletableFuture<MpiInstallation.LaunchProgram> followedUp = new CompletableFuture<>();
    installation.findAhead(null, followedUp::complete);
    assertEquals(Optional.empty(), installation.launchProgram(null));
    assertEquals(1, runs());
    assertFalse(followedUp.isDone(), "no follow-up without a program");
  }

  /** A program on this test's PATH that counts its runs, then runs {@code body}. */
  private Path fakeProgram(String name, String body) throws IOException {
    Path program = directory.resolve(name);
    Files.writeString(program, "#!/bin/sh\necho run >> '" + directory.resolve("runs") + "'\n" + body + "\n");
    Files.setPosixFilePermissions(program, PosixFilePermissions.fromString("rwxr-xr-x"));
    return program;
  }

  private void awaitRuns(int count) throws Exception {
    while (runs() < count) {
      Thread.sleep(10);
    }
  }

  private int runs() throws IOException {
    Path runs = directory.resolve("runs");
    return Files.exists(runs) ? Files.readAllLines(runs).size() : 0;
  }
}
