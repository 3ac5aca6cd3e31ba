package dev.cvmkms.kms.keys.csr;

import dev.cvmkms.kms.attestation.AttestationVerifier;
import dev.cvmkms.kms.attestation.VerifiedAttestation;
import dev.cvmkms.kms.attestation.dcap.TdxQuote;
import dev.cvmkms.kms.attestation.eventlog.EventLogs;
import dev.cvmkms.kms.attestation.eventlog.TdxEvent;
import dev.cvmkms.kms.attestation.ratls.RaTlsExtensions;
import dev.cvmkms.kms.attestation.ratls.VersionedAttestation;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * A SignCert CSR's attestation: decoded from whichever form the CSR carries, then verified against
 * the CSR's own public key (the quote's report data must bind it). Pure Java: the caller chooses
 * the executor and maps the failures to its errors.
 */
public final class AttestedCsr {
  private AttestedCsr() {}

  /** A CSR whose signature holds, with its attestation decoded (not yet verified). */
  public record Parsed(CertSigningRequest csr, VersionedAttestation attestation) {}

  /** A CSR whose attestation verified against the CSR's own key. */
  public record Verified(CertSigningRequest csr, VerifiedAttestation attestation) {}

  /**
   * The attestation a CSR carries: V2 holds VersionedAttestation bytes, V1 a raw quote and a JSON
   * event log (legacy TDX).
   *
   * @throws dev.cvmkms.kms.attestation.AttestationException when it does not decode
   */
  public static Parsed parse(CertSigningRequest csr) {
    VersionedAttestation attestation =
        switch (csr.attestation()) {
          case CsrAttestation.Versioned v -> VersionedAttestation.decode(v.bytes());
          case CsrAttestation.LegacyTdx legacy -> {
            List<TdxEvent> events =
                EventLogs.parseJson(new String(legacy.eventLog(), StandardCharsets.UTF_8));
            byte[] quote = legacy.quote();
            yield new VersionedAttestation(
                0,
                quote,
                events,
                EventLogs.runtimeEvents(events),
                TdxQuote.parse(quote).body().reportData(),
                "");
          }
        };
    return new Parsed(csr, attestation);
  }

  /**
   * Verifies {@code p}'s attestation at {@code now}, requiring its report data to bind the CSR's
   * public key. CPU steps run on {@code onCrypto}; a collateral fetch holds no thread.
   */
  public static CompletionStage<Verified> verify(
      AttestationVerifier verifier, Parsed p, Instant now, Executor onCrypto) {
    return verifier
        .verifyAsync(p.attestation(), RaTlsExtensions.reportData(p.csr().pubkey()), now, onCrypto)
        .thenApply(v -> new Verified(p.csr(), v));
  }
}
