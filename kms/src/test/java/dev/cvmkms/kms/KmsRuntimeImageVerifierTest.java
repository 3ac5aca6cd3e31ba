package dev.cvmkms.kms;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cvmkms.kms.auth.BootInfo;
import dev.cvmkms.kms.config.KmsConfig;
import dev.cvmkms.kms.config.KmsConfigLoader;
import io.vertx.core.Future;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which image verifier the runtime wires: off in dev, fail-closed whenever verify is on. */
class KmsRuntimeImageVerifierTest {
  private static final BootInfo BOOT =
      new BootInfo("dstack-tdx", "", "ab", "", "", "", "", "", "", "UpToDate", List.of());

  @Test
  void verifyOn_withNoVerifier_refusesEveryCaller() {
    KmsConfig config = KmsConfigLoader.parse("[core.image]\nverify = true\n", Map.of());

    Future<Void> result = KmsRuntime.imageVerifier(config).verify(null, "", BOOT);

    assertThat(result.failed()).isTrue();
    assertThat(result.cause())
        .isInstanceOfSatisfying(
            KmsException.class,
            e -> {
              assertThat(e.publicMessage()).startsWith("Failed to verify os image hash: ");
              assertThat(e.kind()).isEqualTo(KmsException.Kind.UPSTREAM_UNAVAILABLE);
            });
  }

  @Test
  void devConfig_trustsTheClaim() {
    KmsConfig dev = KmsConfig.forDev(Path.of("/tmp/s"), "127.0.0.1", 0);
    assertThat(KmsRuntime.imageVerifier(dev).verify(null, "", BOOT).succeeded()).isTrue();
    assertThat(dev.insecureSettings()).contains("core.image.verify=false");
  }
}
