package dev.cvmkms.autheth;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.Test;

/**
 * The structure of ARCHITECTURE §2 for auth-eth, on the compiled main classes: no cycles between
 * its packages ({@code http → policy → chain}, all of them reading {@code config}).
 */
class ArchitectureTest {
  static final JavaClasses MAIN =
      new ClassFileImporter()
          .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
          .importPackages("dev.cvmkms.autheth");

  static final ArchRule NO_CYCLES =
      slices().matching("dev.cvmkms.autheth.(*)..").namingSlices("$1").should().beFreeOfCycles();

  @Test
  void packages_areFreeOfCycles() {
    NO_CYCLES.check(MAIN);
  }
}
