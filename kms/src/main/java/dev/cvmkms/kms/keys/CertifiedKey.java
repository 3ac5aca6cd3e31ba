package dev.cvmkms.kms.keys;

import dev.cvmkms.kms.encoding.Pem;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.util.Objects;

/**
 * A P-256 key with its certificate, each also as the PEM text it is stored as (kept verbatim when
 * loaded, because GetTempCaCert and GetKmsKey return file contents as they are).
 */
final class CertifiedKey {
  private final KeyPair key;
  private final String keyPem;
  private final X509Certificate cert;
  private final String certPem;

  private CertifiedKey(KeyPair key, String keyPem, X509Certificate cert, String certPem) {
    this.key = Objects.requireNonNull(key);
    this.keyPem = Objects.requireNonNull(keyPem);
    this.cert = Objects.requireNonNull(cert);
    this.certPem = Objects.requireNonNull(certPem);
    if (!EcKeys.samePublicKey(key.getPublic(), cert.getPublicKey())) {
      throw new IllegalArgumentException("certificate does not belong to the key");
    }
  }

  /** A key and certificate made here: PEMs in dstack's canonical encodings. */
  static CertifiedKey issued(KeyPair key, X509Certificate cert) {
    return new CertifiedKey(key, EcKeys.pkcs8Pem(key), cert, Pem.certificate(cert));
  }

  /** Parsed from stored PEM texts, which are kept as they are. */
  static CertifiedKey fromPem(String keyPem, String certPem) {
    return new CertifiedKey(
        EcKeys.parseP256Pkcs8Pem(keyPem), keyPem, Pem.parseCertificate(certPem), certPem);
  }

  /** The same key (and key PEM) with a new certificate. */
  CertifiedKey withCertificate(X509Certificate newCert) {
    return new CertifiedKey(key, keyPem, newCert, Pem.certificate(newCert));
  }

  KeyPair key() {
    return key;
  }

  String keyPem() {
    return keyPem;
  }

  X509Certificate cert() {
    return cert;
  }

  String certPem() {
    return certPem;
  }

  @Override
  public String toString() {
    return "CertifiedKey[" + cert.getSubjectX500Principal() + ", key=REDACTED]";
  }
}
