package dev.cvmkms.kms.keys;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The keys package is pure domain code: it must not depend on Vert.x (ARCHITECTURE §2). */
class NoVertxImportTest {
  private static final Path MAIN = Path.of("src/main/java/dev/cvmkms/kms/keys");
  private static final Path TEST = Path.of("src/test/java/dev/cvmkms/kms/keys");

  @Test
  void keysSources_doNotReferenceVertx() throws IOException {
    assertThat(MAIN).as("run from the kms module directory").isDirectory();
    List<Path> offenders;
    try (Stream<Path> files = Stream.concat(Files.walk(MAIN), Files.walk(TEST))) {
      offenders =
          files
              .filter(p -> p.toString().endsWith(".java"))
              .filter(p -> !p.getFileName().toString().equals("NoVertxImportTest.java"))
              .filter(NoVertxImportTest::mentionsVertx)
              .toList();
    }
    assertThat(offenders).isEmpty();
  }

  @Test
  void keysSources_areScanned() throws IOException {
    try (Stream<Path> files = Files.walk(MAIN)) {
      assertThat(files.filter(p -> p.toString().endsWith(".java")).count()).isGreaterThan(10);
    }
  }

  private static boolean mentionsVertx(Path file) {
    try {
      return Files.readString(file).contains("io." + "vertx");
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
