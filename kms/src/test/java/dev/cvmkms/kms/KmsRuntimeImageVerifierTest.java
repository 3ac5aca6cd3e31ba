package dev.cvmkms.kms;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cvmkms.kms.attestation.BootInfo;
import dev.cvmkms.kms.client.HttpImageVerifier;
import dev.cvmkms.kms.config.KmsConfig;
import dev.cvmkms.kms.config.KmsConfigLoader;
import dev.cvmkms.kms.rpc.CryptoPool;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Which image verifier the runtime wires: off in dev, fail-closed whenever verify is on. */
class KmsRuntimeImageVerifierTest {
  private static final BootInfo BOOT =
      new BootInfo("dstack-tdx", "", "ab", "", "", "", "", "", "", "UpToDate", List.of());

  private final Vertx vertx = Vertx.vertx();
  private final CryptoPool crypto = new CryptoPool(vertx, 1, 10);

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void verifyOn_withNoVerifier_refusesEveryCaller() {
    KmsConfig config = KmsConfigLoader.parse("[core.image]\nverify = true\n", Map.of());

    Future<Void> result = KmsRuntime.imageVerifier(config, vertx, crypto).verify(null, "", BOOT);

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
    assertThat(KmsRuntime.imageVerifier(dev, vertx, crypto).verify(null, "", BOOT).succeeded())
        .isTrue();
    assertThat(dev.insecureSettings()).contains("core.image.verify=false");
  }

  @Test
  void verifyOn_withVerifierUrl_delegates() {
    KmsConfig config =
        KmsConfigLoader.parse(
            "[core.image]\nverify = true\nverifier_url = \"http://127.0.0.1:1/\"\n", Map.of());
    assertThat(config.image().verifierUrl()).isPresent();
    assertThat(KmsRuntime.imageVerifier(config, vertx, crypto))
        .isInstanceOf(HttpImageVerifier.class);
  }
}
