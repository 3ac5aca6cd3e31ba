package dev.cvmkms.autheth.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class AuthEthConfigTest {
  static final String CANARY = "CANARY-5f1c9e";

  @Test
  void upstreamDefaultsAndOurs() {
    AuthEthConfig c = AuthEthConfig.fromEnv(Map.of());
    assertThat(c.host()).isEqualTo("127.0.0.1");
    assertThat(c.port()).isEqualTo(8000);
    assertThat(c.kmsContractAddr()).isEqualTo("0x0000000000000000000000000000000000000000");
    assertThat(c.rpc().publicUrl()).isEqualTo("http://localhost:8545");
    assertThat(c.metadataRefresh()).isEqualTo(Duration.ofSeconds(60));
    assertThat(c.rpcSettings().breakerFailures()).isEqualTo(5);
    assertThat(c.rpcSettings().breakerReset()).isEqualTo(Duration.ofSeconds(30));
    assertThat(c.expectedChainId()).isEmpty();
    assertThat(c.finality()).isEqualTo(Finality.LATEST);
  }

  @Test
  void kmsAddressIsKeptVerbatimButValidated() {
    var c =
        AuthEthConfig.fromEnv(
            Map.of("KMS_CONTRACT_ADDR", "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0"));
    assertThat(c.kmsContractAddr()).isEqualTo("0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0");
    assertThat(c.kmsContractCallAddr()).isEqualTo("0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0");
    assertThatThrownBy(() -> AuthEthConfig.fromEnv(Map.of("KMS_CONTRACT_ADDR", "0x123")))
        .hasMessageContaining("KMS_CONTRACT_ADDR");
    assertThatThrownBy(
            () ->
                AuthEthConfig.fromEnv(
                    Map.of("KMS_CONTRACT_ADDR", "0x9fe46736679d2D9a65F0992F2272dE9f3c7fa6e0")))
        .hasMessageContaining("checksum");
  }

  @Test
  void rejectsBadValuesNamingTheKey() {
    Map<String, String> bad =
        Map.of(
            "PORT", "70000",
            "ETH_RPC_DEADLINE_MS", "0",
            "ETH_RPC_RATE_PER_SEC", "fast",
            "ETH_CHAIN_ID", "-1",
            "ETH_FINALITY", "soon",
            "ETH_RPC_URL", "ftp://x",
            "ETH_RPC_API_KEY_HEADER", "bad header");
    for (var e : bad.entrySet()) {
      assertThatThrownBy(() -> AuthEthConfig.fromEnv(Map.of(e.getKey(), e.getValue())))
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining(e.getKey());
    }
    Map<String, String> backoff = new HashMap<>();
    backoff.put("ETH_RPC_BACKOFF_BASE_MS", "500");
    backoff.put("ETH_RPC_BACKOFF_MAX_MS", "100");
    assertThatThrownBy(() -> AuthEthConfig.fromEnv(backoff)).hasMessageContaining("BACKOFF");
  }

  @Test
  void publicUrlDropsPathQueryUserAndDefaultPort() {
    assertThat(RpcEndpoint.publicForm("https://user:pw@eth-mainnet.g.alchemy.com/v2/KEY?x=1"))
        .isEqualTo("https://eth-mainnet.g.alchemy.com");
    assertThat(RpcEndpoint.publicForm("http://127.0.0.1:35753/"))
        .isEqualTo("http://127.0.0.1:35753");
    assertThat(RpcEndpoint.publicForm("https://Host.Example:443/x"))
        .isEqualTo("https://host.example");
    assertThat(RpcEndpoint.publicForm("not a url")).isEqualTo("configured");
  }

  @Test
  void apiKeyGoesInAHeaderOrIntoTheUrlAndIsNeverPrinted() {
    var header = new RpcEndpoint("https://rpc.example/v1", Optional.of(CANARY), "X-Api-Key");
    assertThat(header.requestUrl()).isEqualTo("https://rpc.example/v1");
    assertThat(header.keyHeaderValue()).contains(CANARY);
    var inUrl =
        new RpcEndpoint("https://rpc.example/v3/{apiKey}", Optional.of(CANARY), "X-Api-Key");
    assertThat(inUrl.requestUrl()).isEqualTo("https://rpc.example/v3/" + CANARY);
    assertThat(inUrl.keyHeaderValue()).isEmpty();
    assertThat(inUrl.publicUrl()).isEqualTo("https://rpc.example");
    var c =
        AuthEthConfig.fromEnv(
            Map.of("ETH_RPC_URL", "https://rpc.example/v2/" + CANARY, "ETH_RPC_API_KEY", CANARY));
    assertThat(c.toString()).doesNotContain(CANARY);
    assertThat(c.rpc().toString()).doesNotContain(CANARY);
    assertThatThrownBy(() -> AuthEthConfig.fromEnv(Map.of("ETH_RPC_URL", "https://x/{apiKey}")))
        .hasMessageContaining("ETH_RPC_API_KEY");
  }
}
