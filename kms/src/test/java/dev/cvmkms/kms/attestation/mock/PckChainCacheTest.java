package dev.cvmkms.kms.attestation.mock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cvmkms.kms.attestation.AttestationException;
import dev.cvmkms.kms.attestation.AttestationException.Reason;
import dev.cvmkms.kms.attestation.AttestationVerifier;
import dev.cvmkms.kms.attestation.dcap.Collateral;
import dev.cvmkms.kms.attestation.dcap.CollateralSource;
import dev.cvmkms.kms.attestation.dcap.DcapVerifier;
import dev.cvmkms.kms.attestation.dcap.TcbStatus;
import dev.cvmkms.kms.attestation.eventlog.RuntimeEvent;
import dev.cvmkms.kms.attestation.ratls.VersionedAttestation;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The one thing the verifier remembers about a caller across requests is its platform's PCK chain
 * once it verified to the root: every quote still has its own QE report and quote signatures, TCB
 * match and RTMR3 replay checked, and validity windows, CRLs and TCB status are those of the
 * collateral of the call.
 */
class PckChainCacheTest {
  static final byte[] SEED = "pck-chain-cache-seed".getBytes(StandardCharsets.UTF_8);
  static final MockTdxPki PKI = new MockTdxPki(SEED);
  static final Instant NOW = Instant.parse("2026-11-21T06:00:00Z");

  private final DcapVerifier verifier = new DcapVerifier(PKI.trustAnchor());
  private final Collateral healthy = PKI.collateral(MockCollateralSpec.healthy(NOW));

  private static byte[] quote(Consumer<MockQuoteSpec> bend) {
    MockQuoteSpec s = new MockQuoteSpec();
    bend.accept(s);
    return PKI.quote(s);
  }

  private void rejected(Reason reason, byte[] quote, Collateral c, Instant at) {
    assertThatThrownBy(() -> verifier.verify(quote, c, at))
        .isInstanceOfSatisfying(
            AttestationException.class, e -> assertThat(e.reason()).isEqualTo(reason));
  }

  @Test
  void aPlatformsChainIsVerifiedOnce_butEveryQuoteItsOwnSignatures() {
    for (int i = 0; i < 5; i++) {
      byte[] rd = new byte[64];
      rd[0] = (byte) i;
      assertThat(verifier.verify(quote(s -> s.reportData(rd)), healthy, NOW).status())
          .isEqualTo(TcbStatus.UP_TO_DATE);
    }
    assertThat(verifier.pckChainsVerified()).isEqualTo(1);

    byte[] good = quote(s -> {});
    byte[] body = good.clone();
    body[600] ^= 1; // report data: the quote signature no longer holds
    rejected(Reason.BAD_SIGNATURE, body, healthy, NOW);
    byte[] qe = good.clone();
    qe[770 + 100] ^= 1; // inside the QE report: its PCK signature no longer holds
    rejected(Reason.BAD_SIGNATURE, qe, healthy, NOW);
    rejected(Reason.QE_BINDING_MISMATCH, quote(s -> s.breakQeBinding = true), healthy, NOW);
    rejected(Reason.DEBUG_TD, quote(s -> s.tdAttributes |= 1), healthy, NOW);
    assertThat(verifier.pckChainsVerified()).isEqualTo(1);
  }

  @Test
  void aRememberedChainIsStillCheckedAgainstTheCollateralOfEachCall() {
    byte[] q = quote(s -> {});
    verifier.verify(q, healthy, NOW);

    rejected(
        Reason.CERT_REVOKED,
        q,
        PKI.collateral(MockCollateralSpec.healthy(NOW).withRevokedPck()),
        NOW);
    rejected(
        Reason.TCB_REVOKED,
        q,
        PKI.collateral(MockCollateralSpec.healthy(NOW).withPlatformStatus("Revoked", List.of())),
        NOW);
    rejected(
        Reason.FMSPC_MISMATCH,
        q,
        PKI.collateral(MockCollateralSpec.healthy(NOW).withFmspc("00A06F000000")),
        NOW);
    rejected(Reason.EXPIRED, q, healthy, NOW.plus(Duration.ofDays(30)));
    // and the healthy answer comes back with healthy collateral: nothing was poisoned either way
    assertThat(verifier.verify(q, healthy, NOW).status()).isEqualTo(TcbStatus.UP_TO_DATE);
    assertThat(verifier.pckChainsVerified()).isEqualTo(1);
  }

  @Test
  void aChainThatFailsIsNeverRemembered() {
    MockTdxPki other = new MockTdxPki("another platform".getBytes(StandardCharsets.UTF_8));
    byte[] foreign = other.quote(new MockQuoteSpec());
    for (int i = 0; i < 2; i++) {
      rejected(Reason.UNTRUSTED_CHAIN, foreign, healthy, NOW);
      assertThatThrownBy(
              () -> verifier.collateralKey(dev.cvmkms.kms.attestation.dcap.TdxQuote.parse(foreign)))
          .isInstanceOfSatisfying(
              AttestationException.class,
              e -> assertThat(e.reason()).isEqualTo(Reason.UNTRUSTED_CHAIN));
    }
    assertThat(verifier.pckChainsVerified()).isZero();
    verifier.verify(quote(s -> {}), healthy, NOW);
    assertThat(verifier.pckChainsVerified()).isEqualTo(1);
  }

  @Test
  void theVerdictIsNotCached_eachAttestationIsReplayedAndBound_andTcbChangesApplyAtOnce() {
    MockTdx mock = new MockTdx(SEED, NOW, 1);
    AtomicReference<Collateral> current = new AtomicReference<>(mock.collateral());
    CollateralSource source =
        key -> java.util.concurrent.CompletableFuture.completedFuture(current.get());
    AttestationVerifier v = new AttestationVerifier(mock.dcapVerifier(), source);
    byte[] rd = new byte[64];
    rd[7] = 7;
    VersionedAttestation att = mock.attestation(rd);

    assertThat(v.verify(att, rd, NOW).quote().status()).isEqualTo(TcbStatus.UP_TO_DATE);

    // same quote (same platform, same chain), other runtime events: RTMR3 no longer replays
    List<RuntimeEvent> events = new ArrayList<>(att.runtimeEvents());
    events.set(1, new RuntimeEvent("app-id", new byte[20], 1));
    VersionedAttestation replayed =
        new VersionedAttestation(
            att.wireVersion(), att.quote(), att.eventLog(), events, rd, att.config());
    assertThatThrownBy(() -> v.verify(replayed, rd, NOW))
        .isInstanceOfSatisfying(
            AttestationException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.RTMR_MISMATCH));

    // same attestation, another key to bind: refused
    byte[] otherKey = new byte[64];
    assertThatThrownBy(() -> v.verify(att, otherKey, NOW))
        .isInstanceOfSatisfying(
            AttestationException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.REPORT_DATA_MISMATCH));

    // the platform's TCB level is revoked: the very next call with the same attestation fails
    current.set(
        mock.pki()
            .collateral(MockCollateralSpec.healthy(NOW).withPlatformStatus("Revoked", List.of())));
    assertThatThrownBy(() -> v.verify(att, rd, NOW))
        .isInstanceOfSatisfying(
            AttestationException.class, e -> assertThat(e.reason()).isEqualTo(Reason.TCB_REVOKED));
    current.set(mock.collateral());
    assertThat(v.verify(att, rd, NOW).quote().status()).isEqualTo(TcbStatus.UP_TO_DATE);
    assertThat(v.dcap().pckChainsVerified()).isEqualTo(1);
  }

  @Test
  void theSharedSgxExtensionIsCopiedForEachVerdict() {
    byte[] q = quote(s -> {});
    byte[] ppid = verifier.verify(q, healthy, NOW).ppid();
    ppid[0] ^= (byte) 0xff; // a caller scribbling on its verdict
    assertThat(verifier.verify(q, healthy, NOW).ppid()).isEqualTo(PKI.ppid());
  }
}
