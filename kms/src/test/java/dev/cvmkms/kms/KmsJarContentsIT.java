package dev.cvmkms.kms;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;

/**
 * The service jar carries BoringSSL for the platform the KMS runs on (a TDX guest is linux-x86_64)
 * and no other platform's build, which netty-tcnative's classified pom would otherwise bring.
 */
class KmsJarContentsIT {
  @Test
  void theJarShipsOneBoringSslNativeForLinuxX8664() throws Exception {
    Path jar = Path.of(System.getProperty("kms.jar", "target/kms.jar"));
    try (JarFile f = new JarFile(jar.toFile())) {
      List<String> natives =
          f.stream()
              .map(JarEntry::getName)
              .filter(n -> n.startsWith("META-INF/native/"))
              .filter(n -> !n.endsWith("/"))
              .toList();
      assertThat(natives).containsExactly("META-INF/native/libnetty_tcnative_linux_x86_64.so");
      assertThat(f.getEntry("dev/cvmkms/kms/KmsMain.class")).isNotNull();
    }
  }
}
