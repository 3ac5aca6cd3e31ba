package dev.cvmkms.kms.keys;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class BootstrapInfoTest {
  private final BootstrapInfo info =
      new BootstrapInfo(new byte[] {0x30, 0x59}, new byte[] {0x03, (byte) 0xAB}, new byte[] {0});

  @Test
  void toJson_isPrpcJsonWithLowercaseHexInFieldOrder() {
    assertThat(info.toJson())
        .isEqualTo("{\"ca_pubkey\":\"3059\",\"k256_pubkey\":\"03ab\",\"attestation\":\"00\"}");
  }

  @Test
  void fromJson_roundTripsAndAcceptsPrefixCaseAndUnknownFields() {
    assertThat(parse(info.toJson())).hasValue(info);
    assertThat(
            parse(
                "{\"extra\":1,\"ca_pubkey\":\"0x3059\",\"k256_pubkey\":\"03AB\","
                    + "\"attestation\":\"00\"}"))
        .hasValue(info);
  }

  @Test
  void fromJson_missingOrNullFieldsAreEmpty() {
    assertThat(parse("{\"ca_pubkey\":null}"))
        .hasValueSatisfying(
            i -> {
              assertThat(i.caPubkey()).isEmpty();
              assertThat(i.k256Pubkey()).isEmpty();
              assertThat(i.attestation()).isEmpty();
            });
  }

  @Test
  void fromJson_anyErrorIsAbsent() {
    assertThat(parse("")).isEmpty();
    assertThat(parse("{")).isEmpty();
    assertThat(parse("[]")).isEmpty();
    assertThat(parse("{\"ca_pubkey\":\"xyz\"}")).isEmpty();
    assertThat(parse("{\"ca_pubkey\":\"abc\"}")).isEmpty();
    assertThat(parse("{\"ca_pubkey\":12}")).isEmpty();
    assertThat(BootstrapInfo.fromJson(new byte[] {(byte) 0xff, (byte) 0xfe})).isEmpty();
  }

  @Test
  void toString_showsSizesNotAttestationBytes() {
    assertThat(info.toString()).contains("3059").contains("1 bytes");
  }

  private static java.util.Optional<BootstrapInfo> parse(String json) {
    return BootstrapInfo.fromJson(json.getBytes(StandardCharsets.UTF_8));
  }
}
