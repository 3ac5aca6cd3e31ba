package dev.cvmkms.kms;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.belongToAnyOf;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The structure of ARCHITECTURE §2, checked on the compiled main classes: the dependency direction
 * {@code cli → KmsRuntime (wiring) → service → rpc | keys | auth | attestation} (nothing below
 * {@code service} uses it), no cycles between the packages, and the pure packages {@code keys}
 * (with derivation and csr) and {@code attestation} never reference Vert.x, so they stay testable
 * alone and could become modules. Generated proto messages live in {@code proto}.
 */
class ArchitectureTest {
  private static final String ROOT = "dev.cvmkms.kms";

  static final JavaClasses MAIN =
      new ClassFileImporter()
          .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
          .importPackages(ROOT);

  /** {@code cli → KmsRuntime → service → the rest}; each layer used only from above. */
  static final ArchRule LAYERS =
      layeredArchitecture()
          .consideringAllDependencies()
          .layer("Main")
          .definedBy(belongToAnyOf(KmsMain.class))
          .layer("Cli")
          .definedBy(ROOT + ".cli..")
          .layer("Runtime")
          .definedBy(belongToAnyOf(KmsRuntime.class, KeyState.class))
          .layer("Service")
          .definedBy(ROOT + ".service..")
          .whereLayer("Cli")
          .mayOnlyBeAccessedByLayers("Main")
          .whereLayer("Runtime")
          .mayOnlyBeAccessedByLayers("Main", "Cli")
          .whereLayer("Service")
          .mayOnlyBeAccessedByLayers("Runtime", "Cli");

  /** No cycles between the top-level packages ({@code rpc}, {@code service}, {@code keys}, …). */
  static final ArchRule NO_CYCLES =
      slices().matching(ROOT + ".(*)..").namingSlices("$1").should().beFreeOfCycles();

  /** Generated protobuf messages live in their own package, which uses nothing of ours. */
  static final ArchRule PROTO_MESSAGES_IN_PROTO =
      classes()
          .that()
          .areAssignableTo("com.google.protobuf.MessageOrBuilder")
          .or()
          .areAssignableTo("com.google.protobuf.ProtocolMessageEnum")
          .should()
          .resideInAPackage(ROOT + ".proto");

  static final ArchRule PROTO_IS_GENERATED_ONLY =
      noClasses()
          .that()
          .resideInAPackage(ROOT + ".proto..")
          .should()
          .dependOnClassesThat()
          .resideOutsideOfPackages(ROOT + ".proto..", "java..", "com.google.protobuf..");

  /**
   * {@code service} holds the proto services only: no listener or HTTP client (those are {@code
   * ops}/{@code rpc} and {@code client}), no certificate building (that is {@code keys}).
   */
  static final ArchRule SERVICE_HOLDS_PROTO_SERVICES_ONLY =
      noClasses()
          .that()
          .resideInAPackage(ROOT + ".service..")
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage(
              "io.vertx.core.http..",
              "io.vertx.core.net..",
              "io.vertx.ext.web..",
              "org.bouncycastle..");

  static ArchRule noVertx(String pkg) {
    return noClasses()
        .that()
        .resideInAPackage(ROOT + "." + pkg + "..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("io.vertx..");
  }

  @Test
  void layers_followTheDependencyDirection() {
    LAYERS.check(MAIN);
  }

  @Test
  void packages_areFreeOfCycles() {
    NO_CYCLES.check(MAIN);
  }

  @Test
  void protoMessages_liveInTheirOwnPackage() {
    PROTO_MESSAGES_IN_PROTO.check(MAIN);
  }

  @Test
  void protoPackage_usesNothingOfOurs() {
    PROTO_IS_GENERATED_ONLY.check(MAIN);
  }

  @Test
  void service_holdsTheProtoServicesOnly() {
    SERVICE_HOLDS_PROTO_SERVICES_ONLY.check(MAIN);
  }

  @ParameterizedTest
  @ValueSource(strings = {"keys", "attestation"})
  void purePackages_doNotReferenceVertx(String pkg) {
    assertThat(MAIN.that(resideInAPackage(ROOT + "." + pkg + "..")))
        .as("compiled classes of %s", pkg)
        .hasSizeGreaterThan(10);
    noVertx(pkg).check(MAIN);
  }
}
