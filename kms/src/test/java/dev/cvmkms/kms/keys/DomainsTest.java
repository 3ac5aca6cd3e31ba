package dev.cvmkms.kms.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cvmkms.kms.KmsException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DomainsTest {
  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "-kms.example.com",
        "kms-.example.com",
        "kms..example.com",
        "kms_example.com",
        ".kms.example.com",
        "kms.example.com.",
        "kms.exämple.com",
        "kms example.com"
      })
  void validate_rejectsSpecFailingCases(String domain) {
    assertThatThrownBy(() -> Domains.validate(domain))
        .isInstanceOfSatisfying(
            KmsException.class,
            e -> assertThat(e.kind()).isEqualTo(KmsException.Kind.INVALID_REQUEST));
  }

  @Test
  void validate_rejects254Bytes_and64ByteLabels() {
    assertThatThrownBy(() -> Domains.validate("a".repeat(254)))
        .hasMessageContaining("longer than 253");
    assertThatThrownBy(() -> Domains.validate("a".repeat(64) + ".example.com"))
        .hasMessageContaining("1 to 63");
  }

  @ParameterizedTest
  @ValueSource(strings = {"kms.example.com", "localhost", "10.0.2.2", "Kms-1.Example.COM", "a"})
  void validate_acceptsHostnamesAndIpv4Literals(String domain) {
    assertThat(Domains.validate(domain)).isEqualTo(domain);
  }

  @Test
  void validate_accepts253BytesOf63ByteLabels() {
    String label = "a".repeat(63);
    String domain = label + "." + label + "." + label + "." + "a".repeat(61);
    assertThat(domain).hasSize(253);
    assertThat(Domains.validate(domain)).isEqualTo(domain);
  }

  @Test
  void isIpv4Literal_followsRustParsing() {
    assertThat(Domains.isIpv4Literal("127.0.0.1")).isTrue();
    assertThat(Domains.isIpv4Literal("255.255.255.255")).isTrue();
    assertThat(Domains.isIpv4Literal("256.0.0.1")).isFalse();
    assertThat(Domains.isIpv4Literal("01.2.3.4")).isFalse();
    assertThat(Domains.isIpv4Literal("1.2.3")).isFalse();
    assertThat(Domains.isIpv4Literal("1.2.3.4.5")).isFalse();
    assertThat(Domains.isIpv4Literal("kms.example.com")).isFalse();
  }
}
