package dev.cvmkms.kms.keys.derivation;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** keys.derivation and keys.csr are pure domain code: no Vert.x (ARCHITECTURE.md §2). */
class PurityTest {
  private static final Path KEYS = Path.of("src/main/java/dev/cvmkms/kms/keys");

  @Test
  void derivationAndCsrSources_importNothingFromVertx() throws IOException {
    List<Path> sources = sources(KEYS.resolve("derivation"), KEYS.resolve("csr"));

    assertThat(sources).hasSizeGreaterThanOrEqualTo(10);
    for (Path source : sources) {
      assertThat(Files.readString(source))
          .as(source.toString())
          .doesNotContainPattern("(?m)^\\s*import\\s+(static\\s+)?io\\.vertx\\.")
          .doesNotContain("io.vertx.");
    }
  }

  private static List<Path> sources(Path... roots) throws IOException {
    List<Path> out = new java.util.ArrayList<>();
    for (Path root : roots) {
      try (Stream<Path> files = Files.walk(root)) {
        files.filter(p -> p.toString().endsWith(".java")).forEach(out::add);
      }
    }
    return out;
  }
}
