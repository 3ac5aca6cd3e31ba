package dev.cvmkms.autheth.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;

/**
 * The service jar holds what the service needs: one Jackson (2, Vert.x's JSON), and none of what
 * web3j's crypto module brings for wallet files and blob transactions. The contracts CLI's signing
 * works without them ({@code AnvilIT} deploys and registers through the jar).
 */
class AuthEthJarContentsIT {
  /** Packages that must not ship, with why they would come. */
  private static final List<String> BANNED =
      List.of(
          "tools/jackson/", // Jackson 3: web3j wallet files
          "com/fasterxml/jackson/databind/", // Jackson 2 databind: nothing here binds objects
          "ethereum/ckzg4844/", // KZG: blob transactions
          "org/apache/tuweni/", // Tuweni bytes: blob transactions
          "kotlin/", // Tuweni's runtime
          "org/identityconnectors/"); // ConnId: Tuweni's dependency

  @Test
  void theJarShipsOneJacksonAndNoBlobOrWalletLibraries() throws Exception {
    Path jar = Path.of(System.getProperty("autheth.jar", "target/auth-eth.jar"));
    try (JarFile f = new JarFile(jar.toFile())) {
      List<String> names = f.stream().map(JarEntry::getName).toList();
      assertThat(names).contains("dev/cvmkms/autheth/AuthEthMain.class");
      // What the service and the CLI use.
      assertThat(names)
          .contains(
              "com/fasterxml/jackson/core/JsonFactory.class",
              "org/web3j/crypto/TransactionEncoder.class",
              "org/web3j/abi/FunctionEncoder.class");
      for (String banned : BANNED) {
        assertThat(names).as("entries under " + banned).noneMatch(n -> n.startsWith(banned));
      }
      // Native libraries of what is banned (the KZG one ships per platform).
      assertThat(names).noneMatch(n -> n.toLowerCase(Locale.ROOT).contains("ckzg"));
    }
  }
}
