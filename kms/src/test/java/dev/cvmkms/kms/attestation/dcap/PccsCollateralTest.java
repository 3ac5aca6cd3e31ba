package dev.cvmkms.kms.attestation.dcap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cvmkms.kms.attestation.AttestationException;
import dev.cvmkms.kms.attestation.AttestationException.Reason;
import dev.cvmkms.kms.attestation.Bytes;
import dev.cvmkms.kms.attestation.Vectors;
import dev.cvmkms.kms.attestation.mock.MockCollateralSpec;
import dev.cvmkms.kms.attestation.mock.MockTdxPki;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The PCS/PCCS protocol without a transport (the client is tested in {@code
 * dev.cvmkms.kms.upstream.PccsClientTest}).
 */
class PccsCollateralTest {
  static final Instant NOW = Instant.parse("2026-11-21T06:00:00Z");
  static final MockTdxPki PKI = new MockTdxPki("pccs-test".getBytes(StandardCharsets.UTF_8));
  static final CollateralSource.Key KEY = new CollateralSource.Key("000000000000", "platform");

  @Test
  void requestsAreTheFourPcsRoutes_andASuffixedBaseIsAccepted() {
    for (String base :
        new String[] {
          "https://pccs.example:8081", "https://pccs.example:8081/sgx/certification/v4/"
        }) {
      List<PccsProtocol.Request> r = new PccsProtocol(URI.create(base)).requests(KEY);
      assertThat(r)
          .extracting(x -> x.url().toString())
          .containsExactly(
              "https://pccs.example:8081/sgx/certification/v4/pckcrl?ca=platform&encoding=der",
              "https://pccs.example:8081/tdx/certification/v4/tcb?fmspc=000000000000",
              "https://pccs.example:8081/tdx/certification/v4/qe/identity",
              "https://pccs.example:8081/sgx/certification/v4/rootcacrl");
      assertThat(r).extracting(PccsProtocol.Request::path).doesNotHaveDuplicates();
    }
    assertThat(
            new PccsProtocol(URI.create("https://api.trustedservices.intel.com"))
                .requests(KEY)
                .get(3)
                .url()
                .getHost())
        .isEqualTo("certificates.trustedservices.intel.com");
  }

  @Test
  void garbageAnswersAreUnavailable() {
    PccsProtocol p = new PccsProtocol(URI.create("https://pccs.example"));
    PccsProtocol.Answer junk =
        new PccsProtocol.Answer() {
          @Override
          public String header(String name) {
            return null;
          }

          @Override
          public byte[] body() {
            return "<html>not json".getBytes(StandardCharsets.UTF_8);
          }
        };
    for (int i = 0; i < 4; i++) {
      int index = i;
      assertThatThrownBy(() -> p.check(index, junk))
          .isInstanceOfSatisfying(
              AttestationException.class,
              e -> assertThat(e.reason()).isEqualTo(Reason.COLLATERAL_UNAVAILABLE));
    }
  }

  @Test
  void rawMemberIsTheExactSignedTextOfARealPcsBody() {
    String body = Vectors.text("go-tdx-guest/sample_tcbinfo_response_v5");
    JsonNode derived = Vectors.json("derived-v5-collateral.json");
    assertThat(PccsProtocol.rawMember(body, "tcbInfo")).isEqualTo(derived.get("tcb_info").asText());
    String spaced = "{ \"signature\" : \"00\", \"tcbInfo\" : {\"a\": [1, {\"b\":\"}\"}]} }";
    assertThat(PccsProtocol.rawMember(spaced, "tcbInfo")).isEqualTo("{\"a\": [1, {\"b\":\"}\"}]}");
  }

  @Test
  void rootCrlAsHexDerOrPem() {
    byte[] der = PKI.collateral(MockCollateralSpec.healthy(NOW)).rootCaCrl();
    assertThat(PccsProtocol.crlBytes(der)).isEqualTo(der);
    assertThat(PccsProtocol.crlBytes(Bytes.hex(der).getBytes(StandardCharsets.US_ASCII)))
        .isEqualTo(der);
    String pem =
        "-----BEGIN X509 CRL-----\n"
            + java.util.Base64.getMimeEncoder().encodeToString(der)
            + "\n-----END X509 CRL-----\n";
    assertThat(PccsProtocol.crlBytes(pem.getBytes(StandardCharsets.US_ASCII))).isEqualTo(der);
  }

  @Test
  void rootCrlAsPem_withoutItsEndLineOrWithBadBase64_isRefused() {
    byte[] der = PKI.collateral(MockCollateralSpec.healthy(NOW)).rootCaCrl();
    String body = java.util.Base64.getMimeEncoder().encodeToString(der);
    for (String pem :
        List.of(
            "-----BEGIN X509 CRL-----\n" + body + "\n",
            "-----BEGIN X509 CRL-----\n" + body + "!!\n-----END X509 CRL-----\n")) {
      assertThatThrownBy(() -> PccsProtocol.crlBytes(pem.getBytes(StandardCharsets.US_ASCII)))
          .isInstanceOf(AttestationException.class)
          .hasMessageContaining("CRL is not valid PEM");
    }
  }
}
