package dev.cvmkms.kms.keys.csr;

import java.util.Arrays;
import java.util.Objects;

/**
 * A decoded SCALE CSR (spec §10.8). V1 carries a {@link CsrAttestation.LegacyTdx}, V2 a {@link
 * CsrAttestation.Versioned}.
 *
 * @param confirm must be {@code "please sign cert:"} for the signature check to pass
 * @param pubkey SubjectPublicKeyInfo DER of the leaf key (P-256)
 */
@SuppressWarnings("ArrayRecordComponent") // equals/hashCode below compare the array contents
public record CertSigningRequest(
    String confirm, byte[] pubkey, CertConfig config, CsrAttestation attestation) {

  public CertSigningRequest {
    Objects.requireNonNull(confirm, "confirm");
    pubkey = pubkey.clone();
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(attestation, "attestation");
    if (attestation instanceof CsrAttestation.LegacyTdx && !config.fitsV1()) {
      throw new IllegalArgumentException("a V1 CSR has no ext_app_info or validity overrides");
    }
  }

  /** 1 for the legacy layout, 2 for the current one (the SignCert {@code api_version}). */
  public int apiVersion() {
    return attestation instanceof CsrAttestation.LegacyTdx ? 1 : 2;
  }

  @Override
  public byte[] pubkey() {
    return pubkey.clone();
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof CertSigningRequest o
        && confirm.equals(o.confirm)
        && Arrays.equals(pubkey, o.pubkey)
        && config.equals(o.config)
        && attestation.equals(o.attestation);
  }

  @Override
  public int hashCode() {
    return Objects.hash(confirm, Arrays.hashCode(pubkey), config, attestation);
  }

  @Override
  public String toString() {
    return "CertSigningRequest[v"
        + apiVersion()
        + ", subject="
        + config.subject()
        + ", attestation="
        + attestation
        + "]";
  }
}
