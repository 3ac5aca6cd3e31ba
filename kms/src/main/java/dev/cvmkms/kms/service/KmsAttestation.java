package dev.cvmkms.kms.service;

import dev.cvmkms.kms.attestation.AttestationProvider;
import dev.cvmkms.kms.attestation.AttestationVerifier;
import dev.cvmkms.kms.attestation.ratls.VersionedAttestation;
import java.time.Clock;
import java.util.Objects;

/**
 * This KMS's attestation stack: the provider of its own attestations (the dstack guest agent in a
 * CVM, the mock in {@code kms dev}) and the verifier it applies to quotes (its own and callers').
 */
public record KmsAttestation(
    AttestationProvider provider, AttestationVerifier verifier, Clock clock) {
  public KmsAttestation {
    Objects.requireNonNull(provider, "provider");
    Objects.requireNonNull(verifier, "verifier");
    Objects.requireNonNull(clock, "clock");
  }

  /** The full attestation over {@code reportData}, as the guest agent returns it. */
  public byte[] attest(byte[] reportData) {
    return provider.versionedAttestation(reportData);
  }

  /** The stripped form that goes into a certificate's attestation extension (spec §10.2). */
  public byte[] attestForCertificate(byte[] reportData) {
    return VersionedAttestation.decode(attest(reportData)).stripped().encode();
  }
}
