package dev.cvmkms.kms.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cvmkms.kms.attestation.mock.MockTdx;
import dev.cvmkms.kms.attestation.mock.MockTdxPki;
import dev.cvmkms.kms.config.KmsConfig;
import dev.cvmkms.kms.config.KmsConfigLoader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Fault-matrix row 19: {@code kms serve} lists every offending setting at once, mocks never pass.
 */
class ProductionProfileTest {
  @TempDir Path dir;

  private Path mockRootPem() throws Exception {
    byte[] der = new MockTdxPki(MockTdx.defaultSeed()).root().getEncoded();
    Path file = dir.resolve("mock-root.pem");
    Files.writeString(
        file,
        "-----BEGIN CERTIFICATE-----\n"
            + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(der)
            + "\n-----END CERTIFICATE-----\n");
    return file;
  }

  private String toml(int port, boolean mockRoot) throws Exception {
    return """
        [rpc]
        address = "127.0.0.1"
        port = %d

        [core]
        cert_dir = "%s"
        enforce_self_authorization = false
        attest_rpc_cert = false

        [core.attestation]
        insecure_allow_external_trust_anchors = %s

        [core.attestation.root_ca]
        tdx = "%s"

        [core.auth_api]
        type = "dev"

        [core.onboard]
        auto_bootstrap_domain = "localhost"
        """
        .formatted(port, dir.resolve("certs"), mockRoot, mockRoot ? mockRootPem().toString() : "");
  }

  @Test
  void everyOffenceIsListedWithHowToAllowIt() throws Exception {
    KmsConfig c = KmsConfigLoader.parse(toml(0, true), Map.of());
    List<ProductionProfile.Offence> offences =
        ProductionProfile.check(c, Optional.of(DevAttestation.mock()));

    assertThat(offences.stream().map(ProductionProfile.Offence::setting))
        .containsExactly(
            "core.enforce_self_authorization=false",
            "core.attest_rpc_cert=false",
            "core.auth_api.type=dev",
            "core.attestation.insecure_allow_external_trust_anchors=true",
            "core.attestation.root_ca.tdx (set)",
            "core.attestation.root_ca.tdx = " + mockRootPem() + " is the MOCK TDX root CA",
            "the attestation provider ("
                + DevAttestation.mock().provider()
                + ") makes MOCK TDX quotes");
    assertThat(offences.get(0).line()).endsWith("or pass --allow-insecure");
    assertThat(offences.get(6).line()).endsWith("never allowed under `kms serve`; use `kms dev`");
    assertThat(ProductionProfile.anyUnallowable(offences)).isTrue();
    assertThat(ProductionProfile.anyUnallowable(offences.subList(0, 5))).isFalse();
  }

  @Test
  void serveRefusesBeforeAnyListenerOpens_evenWithAllowInsecure_whenTheMockRootIsConfigured()
      throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path config = dir.resolve("kms.toml");
    Files.writeString(config, toml(port, true));
    int code =
        new CommandLine(new ServeCommand())
            .execute("--config", config.toString(), "--allow-insecure");
    assertThat(code).isEqualTo(2);
    assertThat(Files.exists(dir.resolve("certs"))).as("nothing bootstrapped").isFalse();
    try (ServerSocket s = new ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress())) {
      assertThat(s.getLocalPort()).as("no listener opened").isEqualTo(port);
    }

    Files.writeString(config, toml(port, false));
    assertThat(new CommandLine(new ServeCommand()).execute("--config", config.toString()))
        .as("insecure settings without --allow-insecure")
        .isEqualTo(2);
  }
}
