package org.jmpipool.internal;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The packages by role and how they may depend on each other, as README's "How it works" lays
 * them out: transport at the bottom; wire (frames, payloads, codec) over it; the loop (the
 * communication thread and its agents); the worker's side and the master's side, which know
 * nothing of each other but for the stored objects a task of a local pool reads through the
 * master's own handle; the launched job over the master's side; the classes that start ranks
 * and build pools at the top.
 */
class ArchitectureTest {

  private static final String INTERNAL = "org.jmpipool.internal";
  private static final JavaClasses RUNTIME = new ClassFileImporter()
      .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
      .importPackages("org.jmpipool");

  @Test
  void theInternalPackagesFormNoCycle() {
    slices().matching(INTERNAL + ".(*)..").should().beFreeOfCycles().check(RUNTIME);
  }

  @Test
  void theTransportKnowsNothingAboveIt() {
    noClasses().that().resideInAPackage(INTERNAL + ".transport..")
        .should().dependOnClassesThat().resideInAnyPackage(INTERNAL, INTERNAL + ".wire..", INTERNAL + ".loop..",
            INTERNAL + ".worker..", INTERNAL + ".master..", INTERNAL + ".job..")
        .check(RUNTIME);
  }

  @Test
  void theWireKnowsOnlyTheTransport() {
    noClasses().that().resideInAPackage(INTERNAL + ".wire..")
        .should().dependOnClassesThat().resideInAnyPackage(INTERNAL, INTERNAL + ".loop..", INTERNAL + ".worker..",
            INTERNAL + ".master..", INTERNAL + ".job..")
        .check(RUNTIME);
  }

  @Test
  void theLoopKnowsNeitherSideOfAPool() {
    noClasses().that().resideInAPackage(INTERNAL + ".loop..")
        .should().dependOnClassesThat().resideInAnyPackage(INTERNAL, INTERNAL + ".worker..", INTERNAL + ".master..",
            INTERNAL + ".job..")
        .check(RUNTIME);
  }

  @Test
  void theWorkerSideKnowsNothingOfTheMasterSide() {
    noClasses().that().resideInAPackage(INTERNAL + ".worker..")
        .should().dependOnClassesThat().resideInAnyPackage(INTERNAL, INTERNAL + ".master..", INTERNAL + ".job..")
        .check(RUNTIME);
  }

  @Test
  void theMasterSideKnowsOfTheWorkersOnlyTheirCopiesOfStoredObjects() {
    noClasses().that().resideInAPackage(INTERNAL + ".master..")
        .should().dependOnClassesThat().resideInAnyPackage(INTERNAL, INTERNAL + ".job..")
        .check(RUNTIME);
    noClasses().that().resideInAPackage(INTERNAL + ".master..")
        .should().dependOnClassesThat(DescribedPredicate.describe("worker classes other than WorkerCopy",
            type -> type.getPackageName().startsWith(INTERNAL + ".worker") && !type.getSimpleName().equals("WorkerCopy")))
        .check(RUNTIME);
  }

  @Test
  void theLaunchedJobKnowsNeitherTheWorkersNorTheTop() {
    noClasses().that().resideInAPackage(INTERNAL + ".job..")
        .should().dependOnClassesThat().resideInAnyPackage(INTERNAL, INTERNAL + ".worker..")
        .check(RUNTIME);
  }
}
