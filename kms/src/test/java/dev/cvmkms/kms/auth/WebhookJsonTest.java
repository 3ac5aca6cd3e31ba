package dev.cvmkms.kms.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cvmkms.kms.attestation.BootInfo;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class WebhookJsonTest {
  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void encode_isByteExactInDstackKeyOrder() {
    BootInfo b =
        new BootInfo(
            "dstack-tdx",
            "11",
            "",
            "22",
            "0123456789abcdef0123456789abcdef01234567",
            "33",
            "",
            "44",
            "7b226e616d65223a226b6d73227d",
            "SWHardeningNeeded",
            List.of("INTEL-SA-00837", "INTEL-SA-00615"));

    String json = new String(WebhookJson.encode(b), StandardCharsets.UTF_8);

    assertThat(json)
        .isEqualTo(
            "{\"teeVariant\":\"dstack-tdx\",\"mrAggregated\":\"11\",\"osImageHash\":\"\","
                + "\"mrSystem\":\"22\",\"appId\":\"0123456789abcdef0123456789abcdef01234567\","
                + "\"composeHash\":\"33\",\"instanceId\":\"\",\"deviceId\":\"44\","
                + "\"keyProviderInfo\":\"7b226e616d65223a226b6d73227d\","
                + "\"tcbStatus\":\"SWHardeningNeeded\","
                + "\"advisoryIds\":[\"INTEL-SA-00837\",\"INTEL-SA-00615\"]}");
  }

  @Test
  void encode_emptyAdvisoriesIsAnEmptyArray() {
    String json = new String(WebhookJson.encode(Fixtures.boot()), StandardCharsets.UTF_8);
    assertThat(json).endsWith(",\"tcbStatus\":\"UpToDate\",\"advisoryIds\":[]}");
  }

  @Test
  void decision_allKeysPresent_decodes() throws Exception {
    BootDecision d =
        WebhookJson.decodeDecision(
            utf8("{\"isAllowed\":false,\"gatewayAppId\":\"gw\",\"reason\":\"no\",\"extra\":1}"));
    assertThat(d).isEqualTo(new BootDecision(false, "no", "gw"));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "{\"gatewayAppId\":\"gw\",\"reason\":\"\"}",
        "{\"isAllowed\":true,\"reason\":\"\"}",
        "{\"isAllowed\":true,\"gatewayAppId\":\"gw\"}",
        "{\"isAllowed\":\"true\",\"gatewayAppId\":\"gw\",\"reason\":\"\"}",
        "{\"isAllowed\":1,\"gatewayAppId\":\"gw\",\"reason\":\"\"}",
        "{\"isAllowed\":true,\"gatewayAppId\":null,\"reason\":\"\"}",
        "{\"isAllowed\":true,\"gatewayAppId\":\"gw\",\"reason\":5}",
        "{\"isAllowed\":true,\"isAllowed\":false,\"gatewayAppId\":\"gw\",\"reason\":\"\"}",
        "{\"isAllowed\":true,\"gatewayAppId\":\"gw\",\"reason\":\"\"} trailing",
        "[true]",
        "true",
        "",
        "{\"isAllowed\":true,"
      })
  void decision_anythingElse_failsClosed(String body) {
    assertThatThrownBy(() -> WebhookJson.decodeDecision(utf8(body)))
        .isInstanceOf(WebhookJson.DecodeError.class);
  }

  @Test
  void decision_errorNamesTheKeyButNeverQuotesTheBody() {
    assertThatThrownBy(
            () -> WebhookJson.decodeDecision(utf8("{\"isAllowed\":true,\"secret\":\"hunter2\"}")))
        .hasMessage("missing key \"gatewayAppId\"")
        .hasMessageNotContaining("hunter2");
    assertThatThrownBy(() -> WebhookJson.decodeDecision(utf8("{\"hunter2\"")))
        .hasMessageNotContaining("hunter2");
  }

  @Test
  void info_mapsAllFields_andEmptyRpcUrlIsAbsent() throws Exception {
    AuthInfo info = WebhookJson.decodeInfo(utf8(FakeWebhook.INFO_OK));
    assertThat(info)
        .isEqualTo(
            new AuthInfo(
                false,
                Optional.of("0xgw"),
                Optional.of("0xabc"),
                Optional.of(31337L),
                Optional.of("0ximpl"),
                Optional.of("http://rpc")));

    AuthInfo noRpc =
        WebhookJson.decodeInfo(
            utf8(
                "{\"status\":\"ok\",\"kmsContractAddr\":\"a\",\"gatewayAppId\":\"g\",\"chainId\":0,"
                    + "\"appImplementation\":\"i\",\"ethRpcUrl\":\"\",\"appAuthImplementation\":\"x\"}"));
    assertThat(noRpc.ethRpcUrl()).isEmpty();
    assertThat(noRpc.chainId()).contains(0L);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "\"kmsContractAddr\":\"a\",\"gatewayAppId\":\"g\",\"chainId\":1,\"appImplementation\":\"i\"",
        "\"status\":\"ok\",\"gatewayAppId\":\"g\",\"chainId\":1,\"appImplementation\":\"i\"",
        "\"status\":\"ok\",\"kmsContractAddr\":\"a\",\"chainId\":1,\"appImplementation\":\"i\"",
        "\"status\":\"ok\",\"kmsContractAddr\":\"a\",\"gatewayAppId\":\"g\",\"appImplementation\":\"i\"",
        "\"status\":\"ok\",\"kmsContractAddr\":\"a\",\"gatewayAppId\":\"g\",\"chainId\":1",
        "\"status\":\"ok\",\"kmsContractAddr\":\"a\",\"gatewayAppId\":\"g\",\"chainId\":\"1\",\"appImplementation\":\"i\"",
        "\"status\":\"ok\",\"kmsContractAddr\":\"a\",\"gatewayAppId\":\"g\",\"chainId\":1.5,\"appImplementation\":\"i\"",
        "\"status\":\"ok\",\"kmsContractAddr\":\"a\",\"gatewayAppId\":\"g\",\"chainId\":-1,\"appImplementation\":\"i\"",
        "\"status\":\"ok\",\"kmsContractAddr\":\"a\",\"gatewayAppId\":\"g\",\"chainId\":18446744073709551616,\"appImplementation\":\"i\"",
        "\"status\":\"ok\",\"kmsContractAddr\":\"a\",\"gatewayAppId\":\"g\",\"chainId\":1,\"appImplementation\":\"i\",\"ethRpcUrl\":7"
      })
  void info_missingOrMistypedKey_failsClosed(String fields) {
    assertThatThrownBy(() -> WebhookJson.decodeInfo(utf8("{" + fields + "}")))
        .isInstanceOf(WebhookJson.DecodeError.class);
  }
}
