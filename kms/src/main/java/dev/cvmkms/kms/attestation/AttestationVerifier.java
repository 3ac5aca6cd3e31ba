package dev.cvmkms.kms.attestation;

import dev.cvmkms.kms.attestation.AttestationException.Reason;
import dev.cvmkms.kms.attestation.dcap.CollateralSource;
import dev.cvmkms.kms.attestation.dcap.DcapVerifier;
import dev.cvmkms.kms.attestation.dcap.TdxQuote;
import dev.cvmkms.kms.attestation.dcap.VerifiedQuote;
import dev.cvmkms.kms.attestation.eventlog.EventLogs;
import dev.cvmkms.kms.attestation.eventlog.Rtmr;
import dev.cvmkms.kms.attestation.ratls.RaTlsExtensions;
import dev.cvmkms.kms.attestation.ratls.VersionedAttestation;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Objects;

/**
 * The entry point the KMS uses on a caller's RA-TLS certificate (kms-protocol §10.4): key binding,
 * DCAP (with collateral from the source), TD policy, RTMR3 replay, report-data equality and V2
 * preimages, in dstack's order. Blocking only inside the collateral source.
 */
public final class AttestationVerifier {
  private final DcapVerifier dcap;
  private final CollateralSource collateral;

  public AttestationVerifier(DcapVerifier dcap, CollateralSource collateral) {
    this.dcap = Objects.requireNonNull(dcap, "dcap");
    this.collateral = Objects.requireNonNull(collateral, "collateral");
  }

  public DcapVerifier dcap() {
    return dcap;
  }

  /** Verifies the attestation in an RA-TLS certificate, bound to that certificate's key. */
  public VerifiedAttestation verifyCertificate(X509Certificate cert, Instant now) {
    VersionedAttestation att = RaTlsExtensions.attestation(cert);
    return verify(att, RaTlsExtensions.reportData(cert.getPublicKey().getEncoded()), now);
  }

  /** The same with the SPKI and the 1.8 extension content given separately (e.g. from a CSR). */
  public VerifiedAttestation verify(byte[] spkiDer, byte[] attestation, Instant now) {
    return verify(
        VersionedAttestation.decode(attestation), RaTlsExtensions.reportData(spkiDer), now);
  }

  /**
   * Verifies an attestation; {@code expectedReportData} is the binding the caller requires (null to
   * skip, e.g. for a bare quote whose report data the caller checks itself).
   */
  public VerifiedAttestation verify(
      VersionedAttestation att, byte[] expectedReportData, Instant now) {
    if (expectedReportData != null && !Bytes.equal(att.reportData(), expectedReportData)) {
      throw new AttestationException(
          Reason.REPORT_DATA_MISMATCH, "report data does not bind the certificate's key");
    }
    TdxQuote quote = TdxQuote.parse(att.quote());
    VerifiedQuote vq = dcap.verify(quote, collateral.fetch(dcap.collateralKey(quote)), now);
    byte[] rtmr3 = Rtmr.replay(att.runtimeEvents());
    if (!Bytes.equal(rtmr3, quote.body().rtmr3())) {
      throw new AttestationException(
          Reason.RTMR_MISMATCH, "runtime events do not replay to the quoted RTMR3");
    }
    if (!Bytes.equal(quote.body().reportData(), att.reportData())) {
      throw new AttestationException(
          Reason.REPORT_DATA_MISMATCH, "quote report data differs from the attestation's");
    }
    EventLogs.requireCanonicalPreimages(att.eventLog());
    return new VerifiedAttestation(att, vq);
  }
}
