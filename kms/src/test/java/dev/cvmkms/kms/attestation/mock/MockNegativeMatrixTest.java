package dev.cvmkms.kms.attestation.mock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cvmkms.kms.attestation.AttestationException;
import dev.cvmkms.kms.attestation.AttestationException.Reason;
import dev.cvmkms.kms.attestation.dcap.Collateral;
import dev.cvmkms.kms.attestation.dcap.DcapVerifier;
import dev.cvmkms.kms.attestation.dcap.TcbStatus;
import dev.cvmkms.kms.attestation.dcap.TdxQuote;
import dev.cvmkms.kms.attestation.dcap.VerifiedQuote;
import dev.cvmkms.kms.encoding.Pem;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * The same verifier that checks Intel quotes accepts the mock's quotes under the mock root, and
 * rejects each bent case of spec §6.2 item 3 with the right reason.
 */
class MockNegativeMatrixTest {
  static final byte[] SEED = "negative-matrix-seed".getBytes(StandardCharsets.UTF_8);
  static final MockTdxPki PKI = new MockTdxPki(SEED);
  static final Instant NOW = Instant.parse("2026-11-21T06:00:00Z");

  private final DcapVerifier verifier = new DcapVerifier(PKI.trustAnchor());

  private VerifiedQuote verify(Consumer<MockQuoteSpec> bend, UnaryOperator<MockCollateralSpec> c) {
    MockQuoteSpec s = new MockQuoteSpec();
    bend.accept(s);
    return verifier.verify(
        PKI.quote(s), PKI.collateral(c.apply(MockCollateralSpec.healthy(NOW))), NOW);
  }

  private void rejected(
      Reason reason, Consumer<MockQuoteSpec> bend, UnaryOperator<MockCollateralSpec> c) {
    assertThatThrownBy(() -> verify(bend, c))
        .isInstanceOfSatisfying(
            AttestationException.class, e -> assertThat(e.reason()).isEqualTo(reason));
  }

  @Test
  void healthyV4QuoteIsUpToDate() {
    VerifiedQuote v = verify(s -> {}, c -> c);
    assertThat(v.status()).isEqualTo(TcbStatus.UP_TO_DATE);
    assertThat(v.moduleStatus()).isNull();
    assertThat(v.ppid()).isEqualTo(PKI.ppid());
    assertThat(v.quote().version()).isEqualTo(4);
  }

  @Test
  void v5Td15QuoteWithTrailingPaddingIsUpToDate() {
    VerifiedQuote v =
        verify(
            s -> {
              s.version = 5;
              s.trailingPadding = 70;
            },
            c -> c);
    assertThat(v.status()).isEqualTo(TcbStatus.UP_TO_DATE);
    assertThat(v.quote().body().isTd15()).isTrue();
    assertThat(v.quote().signedLength()).isEqualTo(702);
  }

  @Test
  void moduleIdentityPathIsExercised() {
    VerifiedQuote ok =
        verify(
            s -> s.teeTcbSvn = new byte[] {2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, c -> c);
    assertThat(ok.status()).isEqualTo(TcbStatus.UP_TO_DATE);
    assertThat(ok.moduleStatus()).isEqualTo(TcbStatus.UP_TO_DATE);

    VerifiedQuote old =
        verify(
            s -> s.teeTcbSvn = new byte[] {1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, c -> c);
    assertThat(old.moduleStatus()).isEqualTo(TcbStatus.OUT_OF_DATE);
    assertThat(old.status()).isEqualTo(TcbStatus.OUT_OF_DATE);
    assertThat(old.advisoryIds()).containsExactly("INTEL-SA-MOCK-0001");

    rejected(
        Reason.TDX_MODULE_MISMATCH,
        s -> s.teeTcbSvn = new byte[] {2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
        c -> c);
  }

  @Test
  void outOfDatePlatformIsReportedNotRejected() {
    VerifiedQuote v =
        verify(s -> {}, c -> c.withPlatformStatus("OutOfDate", List.of("INTEL-SA-00001")));
    assertThat(v.status()).isEqualTo(TcbStatus.OUT_OF_DATE);
    assertThat(v.advisoryIds()).containsExactly("INTEL-SA-00001");
    VerifiedQuote sw = verify(s -> {}, c -> c.withPlatformStatus("SWHardeningNeeded", List.of()));
    assertThat(sw.status().intelName()).isEqualTo("SWHardeningNeeded");
  }

  @Test
  void revokedTcbLevelIsRejected() {
    rejected(Reason.TCB_REVOKED, s -> {}, c -> c.withPlatformStatus("Revoked", List.of()));
  }

  @Test
  void noMatchingTcbLevelIsRejected() {
    rejected(Reason.TCB_NOT_SUPPORTED, s -> {}, MockCollateralSpec::withNoMatchingPlatformLevel);
  }

  @Test
  void debugTdIsRejected() {
    rejected(Reason.DEBUG_TD, s -> s.tdAttributes |= 1, c -> c);
  }

  @Test
  void missingSeptVeDisableIsRejected() {
    rejected(Reason.TD_POLICY, s -> s.tdAttributes = 0, c -> c);
  }

  @Test
  void nonZeroMrServiceTdIsRejected() {
    rejected(
        Reason.TD_POLICY,
        s -> {
          s.version = 5;
          s.mrServiceTd = MockQuoteSpec.filled(48, 1);
        },
        c -> c);
  }

  @Test
  void wrongFmspcIsRejected() {
    rejected(Reason.FMSPC_MISMATCH, s -> {}, c -> c.withFmspc("00A06F000000"));
  }

  @Test
  void revokedPckIsRejected() {
    rejected(Reason.CERT_REVOKED, s -> {}, MockCollateralSpec::withRevokedPck);
  }

  @Test
  void expiredOrNotYetValidCollateralIsRejected() {
    Collateral c = PKI.collateral(MockCollateralSpec.healthy(NOW));
    byte[] q = PKI.quote(new MockQuoteSpec());
    for (Instant at :
        new Instant[] {NOW.plus(Duration.ofDays(30)), NOW.minus(Duration.ofDays(2))}) {
      assertThatThrownBy(() -> verifier.verify(q, c, at))
          .isInstanceOfSatisfying(
              AttestationException.class, e -> assertThat(e.reason()).isEqualTo(Reason.EXPIRED));
    }
  }

  @Test
  void brokenQeBindingIsRejected() {
    rejected(Reason.QE_BINDING_MISMATCH, s -> s.breakQeBinding = true, c -> c);
  }

  @Test
  void wrongQeIdentityIsRejected() {
    rejected(
        Reason.QE_IDENTITY_MISMATCH, s -> s.qeMrSigner = MockQuoteSpec.filled(32, 0x55), c -> c);
    rejected(Reason.QE_IDENTITY_MISMATCH, s -> s.qeIsvProdId = 2, c -> c);
    rejected(Reason.TCB_NOT_SUPPORTED, s -> s.qeIsvSvn = 0, c -> c);
  }

  @Test
  void nonZeroMrSignerSeamIsRejected() {
    rejected(Reason.TDX_MODULE_MISMATCH, s -> s.mrSignerSeam = MockQuoteSpec.filled(48, 7), c -> c);
  }

  @Test
  void tamperedBodyOrQeReportIsRejected() {
    Collateral c = PKI.collateral(MockCollateralSpec.healthy(NOW));
    byte[] q = PKI.quote(new MockQuoteSpec());
    int[] offsets = {600, 200, 48 + 16, 636 + 70, 770 + 100};
    // body (report data, MRTD, MRSEAM), attestation key (breaks the QE binding), QE report
    Reason[] reasons = {
      Reason.BAD_SIGNATURE,
      Reason.BAD_SIGNATURE,
      Reason.BAD_SIGNATURE,
      Reason.QE_BINDING_MISMATCH,
      Reason.BAD_SIGNATURE
    };
    for (int i = 0; i < offsets.length; i++) {
      byte[] t = q.clone();
      t[offsets[i]] ^= 0x01;
      Reason want = reasons[i];
      assertThatThrownBy(() -> verifier.verify(t, c, NOW))
          .as("flip at %d", offsets[i])
          .isInstanceOfSatisfying(
              AttestationException.class, e -> assertThat(e.reason()).isEqualTo(want));
    }
  }

  @Test
  void tamperedTcbInfoTextIsRejected() {
    Collateral c = PKI.collateral(MockCollateralSpec.healthy(NOW));
    Collateral bent =
        new Collateral(
            c.pckCrlIssuerChain(),
            c.rootCaCrl(),
            c.pckCrl(),
            c.tcbInfoIssuerChain(),
            c.tcbInfoJson()
                .replace("\"tcbStatus\":\"UpToDate\"}]}", "\"tcbStatus\":\"UpToDate\" }]}"),
            c.tcbInfoSignature(),
            c.qeIdentityIssuerChain(),
            c.qeIdentityJson(),
            c.qeIdentitySignature());
    assertThat(bent.tcbInfoJson()).isNotEqualTo(c.tcbInfoJson());
    assertThatThrownBy(() -> verifier.verify(PKI.quote(new MockQuoteSpec()), bent, NOW))
        .isInstanceOfSatisfying(
            AttestationException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.BAD_SIGNATURE));
  }

  @Test
  void quoteFromAnotherPkiIsUntrusted() {
    MockTdxPki other = new MockTdxPki("another seed".getBytes(StandardCharsets.UTF_8));
    assertThatThrownBy(
            () ->
                verifier.verify(
                    other.quote(new MockQuoteSpec()),
                    PKI.collateral(MockCollateralSpec.healthy(NOW)),
                    NOW))
        .isInstanceOfSatisfying(
            AttestationException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.UNTRUSTED_CHAIN));
  }

  @Test
  void mockQuotesAreRejectedUnderTheIntelRoot() {
    DcapVerifier intel =
        new DcapVerifier(dev.cvmkms.kms.attestation.dcap.TrustAnchor.intelSgxRoot());
    assertThatThrownBy(
            () ->
                intel.verify(
                    PKI.quote(new MockQuoteSpec()),
                    PKI.collateral(MockCollateralSpec.healthy(NOW)),
                    NOW))
        .isInstanceOf(AttestationException.class);
    assertThat(PKI.trustAnchor().isInsecure()).isTrue();
  }

  @Test
  void configuredRootsNeedTheInsecureFlag() throws Exception {
    String mockPem = Pem.certificate(PKI.root());
    assertThat(dev.cvmkms.kms.attestation.dcap.TrustAnchor.fromConfig(null, false).isInsecure())
        .isFalse();
    assertThatThrownBy(() -> dev.cvmkms.kms.attestation.dcap.TrustAnchor.fromConfig(mockPem, false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("insecure_allow_external_trust_anchors");
    assertThat(dev.cvmkms.kms.attestation.dcap.TrustAnchor.fromConfig(mockPem, true).isInsecure())
        .isTrue();
  }

  @Test
  void devCollateralIsReissuedFromTheClock() {
    dev.cvmkms.kms.attestation.MutableClock clock =
        new dev.cvmkms.kms.attestation.MutableClock(NOW);
    MockTdx mock = MockTdx.create(NOW);
    var verifier = mock.verifier(clock);
    byte[] rd = new byte[64];
    clock.advance(Duration.ofDays(90));
    assertThat(verifier.verify(mock.attestation(rd), rd, clock.instant()).quote().status())
        .isEqualTo(TcbStatus.UP_TO_DATE);
  }

  @Test
  void seededPkiIsDeterministic() throws Exception {
    MockTdxPki again = new MockTdxPki(SEED);
    assertThat(again.root().getEncoded()).isEqualTo(PKI.root().getEncoded());
    MockQuoteSpec s = new MockQuoteSpec();
    assertThat(again.quote(s)).isEqualTo(PKI.quote(s));
    assertThat(again.collateral(MockCollateralSpec.healthy(NOW)).toJson())
        .isEqualTo(PKI.collateral(MockCollateralSpec.healthy(NOW)).toJson());
    assertThat(TdxQuote.parse(PKI.quote(s)).length()).isEqualTo(PKI.quote(s).length);
  }
}
