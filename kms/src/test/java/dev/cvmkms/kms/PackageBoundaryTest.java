package dev.cvmkms.kms;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The pure packages (ARCHITECTURE §2): {@code keys} (with derivation and csr) and {@code
 * attestation} never reference Vert.x, so they stay testable alone and could become modules.
 */
class PackageBoundaryTest {
  private static final Path MAIN = Path.of("src/main/java/dev/cvmkms/kms");

  @ParameterizedTest
  @ValueSource(strings = {"keys", "attestation"})
  void purePackages_doNotReferenceVertx(String pkg) throws IOException {
    Path root = MAIN.resolve(pkg);
    assertThat(root).as("run from the kms module directory").isDirectory();
    List<Path> sources;
    try (Stream<Path> files = Files.walk(root)) {
      sources = files.filter(p -> p.toString().endsWith(".java")).toList();
    }
    assertThat(sources).hasSizeGreaterThan(10);
    assertThat(sources.stream().filter(PackageBoundaryTest::mentionsVertx)).isEmpty();
  }

  private static boolean mentionsVertx(Path file) {
    try {
      return Files.readString(file).contains("io.vertx");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
