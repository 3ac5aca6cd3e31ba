package dev.cvmkms.kms.client;

import dev.cvmkms.kms.attestation.AttestationException;
import dev.cvmkms.kms.attestation.AttestationVerifier;
import dev.cvmkms.kms.attestation.VerifiedAttestation;
import dev.cvmkms.kms.attestation.ratls.RaTlsExtensions;
import dev.cvmkms.kms.client.KmsClientException.Reason;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.Objects;
import java.util.Optional;

/**
 * What the client demands of the attestation in the KMS's RPC certificate. A guest accepts a
 * certificate without one but verifies one that is there; an onboarding KMS requires it (spec §11,
 * §15.1 item 9). Verification binds the attestation to the leaf's key ({@code SHA-512("ratls-cert:"
 * ‖ SPKI)}), then checks the quote, RTMR3 and report data. Blocking (collateral): call it on a
 * worker.
 *
 * @param verifier the verifier with the trust anchor for TDX quotes
 * @param required refuse a server certificate that carries no attestation
 * @param clock the time for collateral validity
 */
public record ServerAttestationPolicy(AttestationVerifier verifier, boolean required, Clock clock) {
  public ServerAttestationPolicy {
    Objects.requireNonNull(verifier, "verifier");
    Objects.requireNonNull(clock, "clock");
  }

  /**
   * Checks the attestation in the server's leaf certificate against this policy.
   *
   * @return the verified attestation, empty if the leaf has none and none is required
   * @throws KmsClientException (SERVER_REJECTED) if it is missing but required, or does not verify
   */
  public Optional<VerifiedAttestation> check(X509Certificate leaf) {
    boolean present;
    try {
      present =
          RaTlsExtensions.content(leaf, RaTlsExtensions.ATTESTATION) != null
              || RaTlsExtensions.content(leaf, RaTlsExtensions.TDX_QUOTE) != null;
    } catch (AttestationException e) {
      throw new KmsClientException(
          Reason.SERVER_REJECTED, "the server certificate's attestation is malformed", e);
    }
    if (!present) {
      if (required) {
        throw new KmsClientException(
            Reason.SERVER_REJECTED, "the server certificate carries no attestation");
      }
      return Optional.empty();
    }
    try {
      return Optional.of(verifier.verifyCertificate(leaf, clock.instant()));
    } catch (RuntimeException e) {
      throw new KmsClientException(
          Reason.SERVER_REJECTED,
          "the server certificate's attestation does not verify: " + e.getMessage(),
          e);
    }
  }
}
