package dev.cvmkms.kms.attestation;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The attestation package stays pure Java: it could become its own module without edits. */
class NoVertxImportsTest {
  @Test
  void attestationSourcesImportNothingFromVertx() throws IOException {
    Path root = Path.of("src/main/java/dev/cvmkms/kms/attestation");
    assertThat(root).isDirectory();
    List<Path> offenders;
    try (Stream<Path> files = Files.walk(root)) {
      offenders =
          files
              .filter(p -> p.toString().endsWith(".java"))
              .filter(
                  p -> {
                    try {
                      return Files.readString(p).contains("io.vertx");
                    } catch (IOException e) {
                      throw new java.io.UncheckedIOException(e);
                    }
                  })
              .toList();
    }
    assertThat(offenders).isEmpty();
  }
}
