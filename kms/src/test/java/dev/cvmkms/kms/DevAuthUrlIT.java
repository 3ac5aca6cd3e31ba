package dev.cvmkms.kms;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cvmkms.autheth.testing.Anvil;
import dev.cvmkms.autheth.testing.AuthEthJar;
import dev.cvmkms.autheth.testing.BlockedThreadWarnings;
import dev.cvmkms.autheth.testing.ChainFixture;
import dev.cvmkms.kms.attestation.BootInfo;
import dev.cvmkms.kms.attestation.mock.MockTdx;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kms dev --auth-url}: the real jar against the real auth-eth on a real chain. GetMeta
 * serves the chain's metadata; the trusted RPCs self-authorize with the mock attestation, and the
 * chain decides on every call (allow, then revoke).
 */
class DevAuthUrlIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path tmp;

  @Test
  void devWithAuthUrl_servesChainMetadata_andSelfAuthorizesOnEveryCall() throws Exception {
    try (Anvil anvil = Anvil.start()) {
      ChainFixture chain = ChainFixture.deploy(anvil);
      try (AuthEthJar.Server auth =
          AuthEthJar.Server.start(
              Map.of("ETH_RPC_URL", anvil.url(), "KMS_CONTRACT_ADDR", chain.kms()))) {
        Path state = tmp.resolve("state");
        int port = KmsProcess.freePort();
        try (KmsProcess kms =
            KmsProcess.start(
                tmp,
                port,
                "dev",
                "--state-dir",
                state.toString(),
                "--port",
                "" + port,
                "--auth-url",
                auth.url())) {
          kms.awaitReady(state.resolve("root-ca.crt"), Duration.ofSeconds(60));
          HttpClient http = KmsProcess.client(state.resolve("root-ca.crt"));

          JsonNode meta =
              JSON.readTree(
                  http.send(kms.get("/prpc/GetMeta"), HttpResponse.BodyHandlers.ofString()).body());
          assertThat(meta.get("is_dev").asBoolean()).isFalse();
          assertThat(meta.get("kms_contract_address").asText()).isEqualToIgnoringCase(chain.kms());
          assertThat(meta.get("chain_id").asLong()).isEqualTo(31337L);
          assertThat(meta.get("gateway_app_id").asText()).isEqualTo(ChainFixture.GATEWAY_APP_ID);

          // The mock KMS's measurements are not on chain yet: the self check denies.
          assertThat(tempCa(kms, http).statusCode()).isEqualTo(400);
          assertThat(error(tempCa(kms, http)))
              .startsWith("KMS self authorization failed: KMS is not allowed: ");

          BootInfo self = mockSelfBootInfo();
          AuthEthJar.contracts(
              anvil.url(), "allow-os-image", "--kms", chain.kms(), "--hash", self.osImageHash());
          AuthEthJar.contracts(
              anvil.url(),
              "allow-kms",
              "--kms",
              chain.kms(),
              "--mr",
              self.mrAggregated(),
              "--device-id",
              self.deviceId());
          assertThat(tempCa(kms, http).statusCode()).as("allowed on the next call").isEqualTo(200);

          AuthEthJar.contracts(
              anvil.url(), "revoke-kms", "--kms", chain.kms(), "--mr", self.mrAggregated());
          HttpResponse<String> revoked = tempCa(kms, http);
          assertThat(revoked.statusCode())
              .as("revocation takes effect on the next call")
              .isEqualTo(400);
          assertThat(error(revoked)).contains("Aggregated MR not allowed");
          assertThat(BlockedThreadWarnings.blocking(kms.log())).as("blocked event loops").isEmpty();
        }
      }
    }
  }

  private static HttpResponse<String> tempCa(KmsProcess kms, HttpClient http) throws Exception {
    return http.send(
        kms.post(
            "/prpc/GetTempCaCert?json",
            "application/json",
            "null".getBytes(StandardCharsets.UTF_8)),
        HttpResponse.BodyHandlers.ofString());
  }

  private static String error(HttpResponse<String> r) throws Exception {
    return JSON.readTree(r.body()).get("error").asText();
  }

  /** What `kms dev` attests about itself: the same deterministic mock, verified the same way. */
  private static BootInfo mockSelfBootInfo() {
    Instant now = Instant.now();
    MockTdx tdx = MockTdx.create(now);
    byte[] zero = new byte[64];
    return tdx.verifier().verify(tdx.attestation(zero), zero, now).bootInfo(false, "");
  }
}
