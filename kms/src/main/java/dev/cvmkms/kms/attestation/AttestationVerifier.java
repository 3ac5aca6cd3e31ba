package dev.cvmkms.kms.attestation;

import dev.cvmkms.kms.attestation.AttestationException.Reason;
import dev.cvmkms.kms.attestation.dcap.Collateral;
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
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.jspecify.annotations.Nullable;

/**
 * The entry point the KMS uses on a caller's RA-TLS certificate (kms-protocol §10.4): key binding,
 * DCAP (with collateral from the source), TD policy, RTMR3 replay, report-data equality and V2
 * preimages, in dstack's order.
 *
 * <p>{@link #verifyAsync} never waits on the network: the CPU steps run on the executor the caller
 * gives (the crypto pool), and a collateral miss releases that thread while the source fetches. A
 * miss is only fetched after the quote's PCK chain verified against the trust anchor, so a quote
 * with a made-up FMSPC costs no upstream call and no cache entry. The blocking {@link #verify}
 * forms are for the CLI and start-up paths; they wait at most the collateral client's deadline.
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
      VersionedAttestation att, byte @Nullable [] expectedReportData, Instant now) {
    try {
      return verifyAsync(att, expectedReportData, now, Runnable::run).toCompletableFuture().join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw e;
    }
  }

  /**
   * {@link #verify(VersionedAttestation, byte[], Instant)} without blocking: CPU work on {@code
   * cpu}, collateral from the source (its cache first).
   */
  public CompletionStage<VerifiedAttestation> verifyAsync(
      VersionedAttestation att, byte @Nullable [] expectedReportData, Instant now, Executor cpu) {
    CompletableFuture<Prepared> prepared =
        CompletableFuture.supplyAsync(() -> prepare(att, expectedReportData, now), cpu);
    return prepared.thenCompose(
        p -> {
          if (p.result != null) {
            return CompletableFuture.completedFuture(p.result);
          }
          return collateral.fetch(p.key).thenApplyAsync(c -> finish(att, p.quote, c, now), cpu);
        });
  }

  /** Either the finished result (collateral was cached) or the key to fetch. */
  private record Prepared(
      TdxQuote quote, CollateralSource.Key key, @Nullable VerifiedAttestation result) {}

  private Prepared prepare(
      VersionedAttestation att, byte @Nullable [] expectedReportData, Instant now) {
    if (expectedReportData != null && !Bytes.equal(att.reportData(), expectedReportData)) {
      throw new AttestationException(
          Reason.REPORT_DATA_MISMATCH, "report data does not bind the certificate's key");
    }
    TdxQuote quote = TdxQuote.parse(att.quote());
    // The platform's chain, verified to the trust anchor once and remembered by its text: the
    // common case (a known platform) parses no certificate here. An unverifiable chain fails now.
    CollateralSource.Key key = dcap.collateralKey(quote);
    Optional<Collateral> hit = collateral.cached(key);
    if (hit.isPresent()) {
      return new Prepared(quote, key, finish(att, quote, hit.get(), now));
    }
    // A miss costs an upstream call: only for a chain that is also within its validity now.
    return new Prepared(quote, dcap.fetchableCollateralKey(quote, now), null);
  }

  private VerifiedAttestation finish(
      VersionedAttestation att, TdxQuote quote, Collateral c, Instant now) {
    VerifiedQuote vq = dcap.verify(quote, c, now);
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
