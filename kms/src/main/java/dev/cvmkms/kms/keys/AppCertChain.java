package dev.cvmkms.kms.keys;

import dev.cvmkms.kms.encoding.Pem;
import dev.cvmkms.kms.keys.csr.CertConfig;
import dev.cvmkms.kms.keys.derivation.KeyDerivation;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * SignCert's certificate chain, as dstack's {@code sign_csr} builds it: the app's CA (its key
 * derived from the root CA key and the app id, so every KMS replica issues the same one) and the
 * leaf for the CSR's key under it, then the root. Pure: the caller has verified the CSR, its
 * attestation and the app's authorization, and chosen the extension contents.
 */
public final class AppCertChain {
  private AppCertChain() {}

  /**
   * The PEM chain {@code [leaf, App CA, root]}.
   *
   * @param subjectSpkiDer the CSR's public key
   * @param appInfo the app-info extension's content when the CSR asks for it
   * @param quote the attestation extension's content when the CSR asks for it
   * @throws IllegalArgumentException when the CSR's settings cannot make a certificate
   */
  public static List<String> issue(
      RootKeys keys,
      byte[] appId,
      byte[] subjectSpkiDer,
      CertConfig config,
      Optional<byte[]> appInfo,
      Optional<byte[]> quote,
      Instant now) {
    KeyPair appCaKey =
        KeyDerivation.appCaKeyPair((ECPrivateKey) keys.secretRootCaKeyPair().getPrivate(), appId);
    X509Certificate appCa =
        AppCertificates.appCa(
            appCaKey.getPublic(),
            appId,
            keys.rootCaCertificate(),
            keys.secretRootCaKeyPair().getPrivate(),
            now);
    X509Certificate leaf =
        AppCertificates.leaf(
            subjectSpkiDer, config, appId, appInfo, quote, appCa, appCaKey.getPrivate(), now);
    return List.of(Pem.certificate(leaf), Pem.certificate(appCa), keys.rootCaCertPem());
  }
}
