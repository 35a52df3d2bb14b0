package org.jmpipool.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.jmpipool.internal.transport.MpiInstallation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The transport over the installed MPI library: the ABI of each real library told apart and its
 * status layout read right, and every wrong library or launcher refused in one line before any
 * rank starts.
 */
@Timeout(120)
class TransportIT {

  @ParameterizedTest
  @EnumSource(value = Configuration.class, names = {"OPEN_MPI_FFM", "MPICH_FFM"})
  void eachLibrarysAbiAndStatusLayoutAreReadRight(Configuration configuration) {
    Jobs.Result result = Jobs.java(configuration, Programs.BindingProbe.class);
    assertEquals(0, result.status(), result.toString());
    String family = configuration == Configuration.MPICH_FFM ? "mpich" : "openmpi";
    assertTrue(result.out().contains("family " + family + ": "
        + (family.equals("mpich") ? "MPICH Version" : "Open MPI v")), result.toString());
    assertTrue(result.out().contains("thread level 3"), result.toString());
    assertTrue(result.out().contains("rank 0 of 1"), result.toString());
    assertTrue(result.out().contains("statuses right for 4 messages"), result.toString());
  }

  @Test
  void aLibraryThatDoesNotExistIsOneLineAndStatusThree() {
    Jobs.Result result = ffmJob(Map.of(MpiInstallation.LIBRARY_VARIABLE, "/no/such/libmpi.so.40"), "openmpi");
    assertRefused(result, "JMPIPOOL_LIBMPI=/no/such/libmpi.so.40: cannot load /no/such/libmpi.so.40");
  }

  @Test
  void aLibraryThatIsNotMpiIsOneLineAndStatusThree() {
    String notMpi = Stream.of("/lib/x86_64-linux-gnu/libz.so.1", "/usr/lib/x86_64-linux-gnu/libz.so.1", "/lib64/libz.so.1")
        .filter(file -> Files.exists(Path.of(file))).findFirst().orElse(null);
    assumeTrue(notMpi != null, "no libz.so.1, a library that is not MPI, found here");
    Jobs.Result result = ffmJob(Map.of(MpiInstallation.LIBRARY_VARIABLE, notMpi), "openmpi");
    assertRefused(result, notMpi + " is not an MPI library");
  }

  /** Hydra cannot start ranks that load Open MPI's library: refused before any rank starts. */
  @Test
  void aLauncherAndALibraryOfDifferentFamiliesAreRefused() {
    Configuration.MPICH_FFM.assumeAvailable();
    Map<String, String> openMpi = Configuration.OPEN_MPI_FFM.embeddedEnvironment();
    Jobs.Result result = ffmJob(openMpi, "mpich");
    assertRefused(result, "cannot start ranks that load " + openMpi.get(MpiInstallation.LIBRARY_VARIABLE)
        + ", a library of Open MPI");
  }

  @Test
  void theFfmTransportOnJava17IsOneLineAndStatusTwo() {
    Jobs.Result result = Jobs.launch(Map.of(), List.of("--transport", "ffm", "-n", "2", "-cp", Jobs.TEST_CLASSES,
        Programs.Nothing.class.getName()));
    assertEquals(2, result.status(), result.toString());
    assertEquals(1, result.err().strip().lines().count(), result.toString());
    assertTrue(result.err().contains("the ffm transport (java.lang.foreign) needs Java 22 or later"), result.toString());
  }

  @Test
  void anMpiexecOfNoKnownMpiIsOneLineAndStatusThree() {
    Jobs.Result result = Jobs.launch(Map.of(), List.of("--mpiexec", "/bin/true", "-n", "2", "-cp", Jobs.TEST_CLASSES,
        Programs.Nothing.class.getName()));
    assertRefused(result, "--mpiexec /bin/true is not the launcher of a known MPI");
  }

  private static Jobs.Result ffmJob(Map<String, String> environment, String mpi) {
    Configuration.OPEN_MPI_FFM.assumeAvailable();
    Map<String, String> merged = new HashMap<>(Configuration.OPEN_MPI_FFM.environment());
    merged.putAll(environment);
    return Jobs.launch(merged, List.of("--mpi", mpi, "-n", "2", "-cp", Jobs.TEST_CLASSES, Programs.Nothing.class.getName()));
  }

  private static void assertRefused(Jobs.Result result, String message) {
    assertEquals(3, result.status(), result.toString());
    assertEquals(1, result.err().strip().lines().count(), "one line: " + result);
    assertTrue(result.err().contains(message), result.toString());
    assertTrue(result.elapsed().toSeconds() < 20, result.toString());
  }
}
