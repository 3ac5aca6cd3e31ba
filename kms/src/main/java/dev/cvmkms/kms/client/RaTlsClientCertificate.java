package dev.cvmkms.kms.client;

import dev.cvmkms.kms.attestation.AttestationProvider;
import dev.cvmkms.kms.attestation.ratls.RaTlsExtensions;
import dev.cvmkms.kms.attestation.ratls.VersionedAttestation;
import dev.cvmkms.kms.encoding.Pem;
import dev.cvmkms.kms.keys.CertProfile;
import dev.cvmkms.kms.keys.CertificateIssuer;
import dev.cvmkms.kms.keys.EcKeys;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * An RA-TLS client certificate as dstack guests make them (spec §8.3 item 4): a fresh P-256 key,
 * {@code CN=RA-TLS TEMP Cert}, no SAN, the stripped attestation over {@code SHA-512("ratls-cert:" ‖
 * SPKI)} in extension 1.8, signed by the KMS's temp CA (whose key the KMS hands out on purpose:
 * trust comes from the attestation, not the CA).
 *
 * @param keyPem the new private key, PKCS#8 PEM (secret; not in {@link #toString()})
 * @param certificate the issued certificate
 */
public record RaTlsClientCertificate(String keyPem, X509Certificate certificate) {
  public static final String COMMON_NAME = "RA-TLS TEMP Cert";

  public RaTlsClientCertificate {
    Objects.requireNonNull(keyPem, "keyPem");
    Objects.requireNonNull(certificate, "certificate");
  }

  /**
   * Blocking (the attestation provider may call the guest agent): run it on a worker.
   *
   * @throws KmsClientException (CLIENT_CERTIFICATE) if the temp CA does not parse or the attester
   *     fails
   */
  public static RaTlsClientCertificate issue(
      String tempCaCertPem,
      String tempCaKeyPem,
      AttestationProvider attester,
      SecureRandom random,
      Instant now) {
    X509Certificate tempCa;
    KeyPair tempCaKey;
    try {
      tempCa = Pem.parseCertificate(tempCaCertPem);
      tempCaKey = EcKeys.parseP256Pkcs8Pem(tempCaKeyPem);
    } catch (IllegalArgumentException e) {
      throw new KmsClientException(
          KmsClientException.Reason.BAD_RESPONSE,
          "the KMS's temp CA is unusable: " + e.getMessage(),
          e);
    }
    if (!EcKeys.samePublicKey(tempCa.getPublicKey(), tempCaKey.getPublic())) {
      throw new KmsClientException(
          KmsClientException.Reason.BAD_RESPONSE,
          "the KMS's temp CA certificate and key do not belong together");
    }
    KeyPair key = EcKeys.generateP256(random);
    byte[] spki = EcKeys.spkiDer(key.getPublic());
    byte[] stripped;
    try {
      byte[] full = attester.versionedAttestation(RaTlsExtensions.reportData(spki));
      stripped = VersionedAttestation.decode(full).stripped().encode();
    } catch (RuntimeException e) {
      throw new KmsClientException(
          KmsClientException.Reason.CLIENT_CERTIFICATE,
          "could not attest the RA-TLS client key: " + e.getMessage(),
          e);
    }
    CertProfile profile =
        CertProfile.leaf(
            COMMON_NAME,
            List.of(),
            List.of(new CertProfile.CustomExtension(RaTlsExtensions.ATTESTATION, stripped)));
    X509Certificate cert =
        CertificateIssuer.issue(
            profile, spki, CertificateIssuer.subjectOf(tempCa), tempCaKey.getPrivate(), now);
    return new RaTlsClientCertificate(EcKeys.pkcs8Pem(key), cert);
  }

  /** The certificate as PEM, leaf only (the server trusts the temp CA directly). */
  public String certificatePem() {
    return Pem.certificate(certificate);
  }

  @Override
  public String toString() {
    return "RaTlsClientCertificate[" + certificate.getSubjectX500Principal() + ", key=<redacted>]";
  }
}
