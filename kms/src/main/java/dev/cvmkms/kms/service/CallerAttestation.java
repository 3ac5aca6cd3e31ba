package dev.cvmkms.kms.service;

import dev.cvmkms.kms.KmsException;
import dev.cvmkms.kms.attestation.AttestationException;
import dev.cvmkms.kms.attestation.AttestationVerifier;
import dev.cvmkms.kms.attestation.VerifiedAttestation;
import dev.cvmkms.kms.attestation.ratls.RaTlsExtensions;
import dev.cvmkms.kms.attestation.ratls.VersionedAttestation;
import dev.cvmkms.kms.rpc.Caller;
import dev.cvmkms.kms.rpc.CryptoPool;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.jspecify.annotations.Nullable;

/**
 * Caller identity at the edge (spec §4.0(A)): when the TLS client presented a certificate, read its
 * app-id/app-info extensions (a malformed one fails the request) and its attestation (1.8, or the
 * legacy 1.1 + 1.2 pair), and verify the attestation bound to the certificate's key ({@code
 * verify_with_ra_pubkey}) on the crypto pool. Any failure is {@code invalid quote: …}. Only the
 * RPCs that use the caller's identity pass this gate (see {@link KmsMethods#VERIFIES_CALLER}); the
 * others ignore a presented certificate's attestation.
 *
 * <p>The crypto worker is released while collateral is fetched (a cache miss): the PCCS call runs
 * on its client's own threads and verification resumes on the pool when the collateral arrives.
 *
 * <p>The verdict is not cached: the certificate is client-chosen, verification with cached
 * collateral costs about a millisecond, and a cache would keep accepting a quote after its
 * collateral (TCB level, CRL) changed until the entry aged out.
 */
public final class CallerAttestation {
  private final CryptoPool crypto;
  private final Optional<AttestationVerifier> verifier;
  private final Clock clock;
  private final Executor onCrypto;

  /**
   * @param verifier empty when this KMS has no attestation stack: then every attested certificate
   *     is refused (fail closed) and plain ones pass unattested
   */
  public CallerAttestation(CryptoPool crypto, Optional<AttestationVerifier> verifier, Clock clock) {
    this.crypto = Objects.requireNonNull(crypto, "crypto");
    this.verifier = Objects.requireNonNull(verifier, "verifier");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.onCrypto =
        r ->
            crypto.run(
                () -> {
                  r.run();
                  return null;
                });
  }

  /** The caller with its verified attestation, or unchanged when it sent no (attested) cert. */
  public Future<Caller> verify(Caller caller) {
    Optional<X509Certificate> leaf = caller.leaf();
    if (leaf.isEmpty()) {
      return Future.succeededFuture(caller);
    }
    Context ctx = Vertx.currentContext();
    return crypto
        .run(() -> extract(leaf.get()))
        .compose(
            p -> {
              if (p == null) {
                return Future.succeededFuture(caller);
              }
              CompletionStage<VerifiedAttestation> verified =
                  p.verifier.verifyAsync(p.attestation, p.binding, clock.instant(), onCrypto);
              Future<VerifiedAttestation> f =
                  ctx == null
                      ? Future.fromCompletionStage(verified)
                      : Future.fromCompletionStage(verified, ctx);
              return f.map(caller::withAttestation).recover(e -> Future.failedFuture(mapped(e)));
            });
  }

  /** What to verify: the attestation, its key binding and the verifier; null for none. */
  @SuppressWarnings("ArrayRecordComponent") // work item; never compared or hashed
  private record Pending(
      VersionedAttestation attestation, byte[] binding, AttestationVerifier verifier) {}

  private static Throwable mapped(Throwable e) {
    Throwable t = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    return t instanceof AttestationException a ? invalidQuote(a) : t;
  }

  private @Nullable Pending extract(X509Certificate leaf) {
    try {
      // Parsed only to reject malformed extensions, as dstack does; the values are not used.
      RaTlsExtensions.content(leaf, RaTlsExtensions.APP_ID);
      RaTlsExtensions.content(leaf, RaTlsExtensions.APP_INFO);
    } catch (AttestationException e) {
      throw KmsException.invalid("invalid certificate extension: " + e.getMessage());
    }
    VersionedAttestation attestation;
    try {
      byte[] versioned = RaTlsExtensions.content(leaf, RaTlsExtensions.ATTESTATION);
      if (versioned == null && RaTlsExtensions.content(leaf, RaTlsExtensions.TDX_QUOTE) == null) {
        return null; // a plain client certificate: nothing to verify, nothing attested
      }
      // the 1.8 extension is read once and decoded once; the legacy pair only when it is absent
      attestation =
          versioned != null
              ? VersionedAttestation.decode(versioned)
              : RaTlsExtensions.attestation(leaf);
      byte[] binding = RaTlsExtensions.reportData(leaf.getPublicKey().getEncoded());
      AttestationVerifier v =
          verifier.orElseThrow(
              () ->
                  new AttestationException(
                      AttestationException.Reason.UNSUPPORTED,
                      "this KMS has no attestation verifier configured"));
      return new Pending(attestation, binding, v);
    } catch (AttestationException e) {
      throw invalidQuote(e);
    }
  }

  static KmsException invalidQuote(AttestationException e) {
    // Collateral that cannot be fetched says nothing about the quote: retryable, not a rejection.
    KmsException.Kind kind =
        e.reason() == AttestationException.Reason.COLLATERAL_UNAVAILABLE
            ? KmsException.Kind.UPSTREAM_UNAVAILABLE
            : KmsException.Kind.NOT_ATTESTED;
    return new KmsException(kind, "invalid quote: " + e.publicMessage(), e);
  }
}
