package dev.cvmkms.kms.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cvmkms.autheth.policy.BootInfoParser;
import dev.cvmkms.kms.attestation.BootInfo;
import dev.cvmkms.kms.attestation.mock.MockTdx;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The KMS's side of the auth webhook contract against auth-eth's: what {@link WebhookJson#encode}
 * sends to {@code /bootAuth/app|kms} is a valid BootInfo for auth-eth's {@link BootInfoParser},
 * with every field the contract decides on carried over (in the contract's {@code 0x} lower-case
 * form).
 */
class WebhookBootInfoContractTest {

  @Test
  void mockAttestationBootInfo_parsesInAuthEth() {
    Instant now = Instant.now();
    MockTdx guest = new MockTdx(MockTdx.defaultSeed(), now, 1);
    byte[] reportData = new byte[64];
    for (boolean bootTimeMr : new boolean[] {false, true}) {
      BootInfo boot =
          guest
              .verifier()
              .verify(guest.attestation(reportData), reportData, now)
              .bootInfo(bootTimeMr, "");
      assertParsesTo(boot);
    }
  }

  @Test
  void bootInfoWithAdvisoriesAndMixedFields_parsesInAuthEth() {
    assertParsesTo(Fixtures.boot());
    BootInfo withAdvisories =
        new BootInfo(
            "dstack-tdx",
            "0a".repeat(32),
            "1b".repeat(32),
            "2c".repeat(32),
            "abcdefabcdefabcdefabcdefabcdefabcdefabcd",
            "3d".repeat(32),
            "00112233445566778899aabbccddeeff00112233",
            "4e".repeat(32),
            "{\"type\":\"kms\"}",
            "OutOfDate",
            List.of("INTEL-SA-00001", "INTEL-SA-00002"));
    assertParsesTo(withAdvisories);
  }

  private static void assertParsesTo(BootInfo kms) {
    JsonObject body = new JsonObject(new String(WebhookJson.encode(kms), StandardCharsets.UTF_8));
    BootInfoParser.Result result = BootInfoParser.parse(body);
    assertThat(result).isInstanceOf(BootInfoParser.Valid.class);
    var parsed = ((BootInfoParser.Valid) result).info();
    assertThat(parsed.appId()).isEqualTo("0x" + kms.appId());
    assertThat(parsed.composeHash()).isEqualTo("0x" + kms.composeHash());
    assertThat(parsed.instanceId()).isEqualTo("0x" + kms.instanceId());
    assertThat(parsed.deviceId()).isEqualTo("0x" + kms.deviceId());
    assertThat(parsed.mrAggregated()).isEqualTo("0x" + kms.mrAggregated());
    assertThat(parsed.mrSystem()).isEqualTo("0x" + kms.mrSystem());
    assertThat(parsed.osImageHash()).isEqualTo("0x" + kms.osImageHash());
    assertThat(parsed.tcbStatus()).isEqualTo(kms.tcbStatus());
    assertThat(parsed.advisoryIds()).isEqualTo(kms.advisoryIds());
  }
}
