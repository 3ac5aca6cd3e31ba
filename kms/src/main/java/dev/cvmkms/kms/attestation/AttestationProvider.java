package dev.cvmkms.kms.attestation;

/**
 * Produces a dstack VersionedAttestation (quote plus event log, runtime events and vm_config) for
 * 64 bytes of report data, as the guest agent's Attest call does. The KMS embeds it (stripped) in
 * its RA-TLS certificates' 1.8 extension.
 */
public interface AttestationProvider {
  /** Encoded VersionedAttestation bytes (V0 SCALE or V1 msgpack). */
  byte[] versionedAttestation(byte[] reportData);
}
