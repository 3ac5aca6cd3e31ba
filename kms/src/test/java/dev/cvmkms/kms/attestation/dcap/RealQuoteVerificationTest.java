package dev.cvmkms.kms.attestation.dcap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cvmkms.kms.attestation.AttestationException;
import dev.cvmkms.kms.attestation.AttestationException.Reason;
import dev.cvmkms.kms.attestation.Bytes;
import dev.cvmkms.kms.attestation.Vectors;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The real quotes verify offline at their fixed dates with the statuses in expected.json. */
class RealQuoteVerificationTest {
  private final DcapVerifier verifier = new DcapVerifier(TrustAnchor.intelSgxRoot());

  @Test
  void pinnedRootEqualsTheVectorRoot() throws Exception {
    assertThat(TrustAnchor.intelSgxRoot().root().getEncoded())
        .isEqualTo(Vectors.bytes("intel-sgx-root-ca.der"));
    assertThat(TrustAnchor.intelSgxRoot().isInsecure()).isFalse();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "sample-tdx-quote.bin",
        "dcap-qvl/tdx_quote.bin",
        "dcap-qvl/tdx_quote_outdated.bin",
        "go-tdx-guest/quote_v5_sample.dat",
        "go-tdx-guest/tdx_prod_quote_SPR_E4.dat",
        "dstack/verifier-quote-report.json",
        "dstack/verifier-tdx-lite-getquote.json"
      })
  void parsesLikeExpectedJson(String name) {
    JsonNode e = Vectors.expected().get("quotes").get(name);
    byte[] raw = name.endsWith(".json") ? Vectors.fixtureQuote(name) : Vectors.bytes(name);
    TdxQuote q = TdxQuote.parse(raw);
    assertThat(q.version()).isEqualTo(e.get("header").get("version").asInt());
    assertThat(Bytes.hex(q.userData())).isEqualTo(e.get("header").get("user_data").asText());
    assertThat(q.length()).isEqualTo(e.get("parsed_size").asInt());
    assertThat(q.signedLength()).isEqualTo(e.get("signed_len").asInt());
    JsonNode b = e.get("body");
    TdReport body = q.body();
    assertThat(Bytes.hex(body.teeTcbSvn())).isEqualTo(b.get("tee_tcb_svn").asText());
    assertThat(Bytes.hex(body.mrSeam())).isEqualTo(b.get("mr_seam").asText());
    assertThat(Bytes.hex(body.tdAttributes())).isEqualTo(b.get("td_attributes").asText());
    assertThat(Bytes.hex(body.mrTd())).isEqualTo(b.get("mr_td").asText());
    assertThat(Bytes.hex(body.mrConfigId())).isEqualTo(b.get("mr_config_id").asText());
    for (int i = 0; i < 4; i++) {
      assertThat(Bytes.hex(body.rtmr(i))).isEqualTo(b.get("rtmr" + i).asText());
    }
    assertThat(Bytes.hex(body.reportData())).isEqualTo(b.get("report_data").asText());
    assertThat(Bytes.hex(q.attestationKey())).isEqualTo(e.get("attestation_key").asText());
    assertThat(Bytes.hex(q.signature())).isEqualTo(e.get("quote_signature").asText());
    assertThat(Bytes.hex(q.qeReport().mrSigner()))
        .isEqualTo(e.get("qe_report").get("mr_signer").asText());
    assertThat(Bytes.hex(q.qeReport().reportData()))
        .isEqualTo(e.get("qe_report").get("report_data").asText());
    assertThat(Bytes.hex(q.qeAuthData())).isEqualTo(e.get("qe_auth_data").asText());
    assertThat(Bytes.hex(raw, q.reportDataOffset(), 64)).isEqualTo(b.get("report_data").asText());

    SgxExtension ext = SgxExtension.of(Certs.parsePemChain(q.pckChainPem(), "pck").get(0));
    JsonNode p = e.get("pck_extension");
    assertThat(Bytes.hex(ext.ppid())).isEqualTo(p.get("ppid").asText());
    assertThat(Bytes.hex(ext.cpuSvn())).isEqualTo(p.get("cpusvn").asText());
    assertThat(ext.pceSvn()).isEqualTo(p.get("pcesvn").asInt());
    assertThat(Bytes.hex(ext.fmspc())).isEqualTo(p.get("fmspc").asText());
    assertThat(Bytes.hex(ext.pceId())).isEqualTo(p.get("pceid").asText());
    assertThat(Bytes.hex(Bytes.sha256(ext.ppid())))
        .isEqualTo(e.get("dstack_device_id_sha256_ppid").asText());
  }

  @Test
  void dcapQvlSampleIsUpToDate() {
    VerifiedQuote v =
        verifier.verify(
            Vectors.bytes("dcap-qvl/tdx_quote.bin"),
            Vectors.collateral("dcap-qvl/tdx_quote_collateral.json"),
            Vectors.windowMiddle(0));
    assertThat(v.status()).isEqualTo(TcbStatus.UP_TO_DATE);
    assertThat(v.advisoryIds()).isEmpty();
  }

  @Test
  void dstackQuoteReportQuoteIsUpToDateAtBothWindowEnds() {
    Collateral c = Vectors.collateral("dcap-qvl/tdx_quote_outdated_collateral.json");
    byte[] quote = Vectors.fixtureQuote("dstack/verifier-quote-report.json");
    for (Instant at : new Instant[] {Vectors.windowStart(1), Vectors.windowEnd(1)}) {
      VerifiedQuote v = verifier.verify(quote, c, at);
      assertThat(v.status()).isEqualTo(TcbStatus.UP_TO_DATE);
      assertThat(v.moduleStatus()).isEqualTo(TcbStatus.UP_TO_DATE);
      assertThat(v.qeStatus()).isEqualTo(TcbStatus.UP_TO_DATE);
      assertThat(v.advisoryIds()).isEmpty();
    }
  }

  @Test
  void v5SampleWithDerivedCollateralIsUpToDate() {
    VerifiedQuote v =
        verifier.verify(
            Vectors.bytes("go-tdx-guest/quote_v5_sample.dat"),
            Vectors.collateral("derived-v5-collateral.json"),
            Vectors.windowMiddle(4));
    assertThat(v.quote().version()).isEqualTo(5);
    assertThat(v.quote().body().isTd15()).isTrue();
    assertThat(v.status()).isEqualTo(TcbStatus.UP_TO_DATE);
  }

  @Test
  void outdatedSampleMatchesNoTcbLevel() {
    assertThatThrownBy(
            () ->
                verifier.verify(
                    Vectors.bytes("dcap-qvl/tdx_quote_outdated.bin"),
                    Vectors.collateral("dcap-qvl/tdx_quote_outdated_collateral.json"),
                    Vectors.windowMiddle(2)))
        .isInstanceOfSatisfying(
            AttestationException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.TCB_NOT_SUPPORTED));
  }

  @Test
  void dstackSampleMatchesNoTcbLevel() {
    assertThatThrownBy(
            () ->
                verifier.verify(
                    Vectors.bytes("sample-tdx-quote.bin"),
                    Vectors.collateral("dcap-qvl/tdx_quote_collateral.json"),
                    Vectors.windowMiddle(3)))
        .isInstanceOfSatisfying(
            AttestationException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.TCB_NOT_SUPPORTED));
  }

  @Test
  void collateralOutsideItsWindowIsExpired() {
    Collateral c = Vectors.collateral("dcap-qvl/tdx_quote_collateral.json");
    byte[] q = Vectors.bytes("dcap-qvl/tdx_quote.bin");
    for (Instant at :
        new Instant[] {
          Vectors.windowStart(0).minusSeconds(1), Vectors.windowEnd(0).plusSeconds(1)
        }) {
      assertThatThrownBy(() -> verifier.verify(q, c, at))
          .isInstanceOfSatisfying(
              AttestationException.class, e -> assertThat(e.reason()).isEqualTo(Reason.EXPIRED));
    }
  }

  @Test
  void collateralForAnotherPlatformIsRejected() {
    // The dcap-qvl sample is FMSPC B0C06F000000; the outdated collateral is for 90C06F000000.
    Instant at = Vectors.windowMiddle(1);
    assertThatThrownBy(
            () ->
                verifier.verify(
                    Vectors.bytes("dcap-qvl/tdx_quote.bin"),
                    Vectors.collateral("dcap-qvl/tdx_quote_outdated_collateral.json"),
                    at))
        .isInstanceOfSatisfying(
            AttestationException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.FMSPC_MISMATCH));
  }
}
