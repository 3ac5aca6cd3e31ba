package dev.cvmkms.kms.keys;

import dev.cvmkms.kms.keys.CertProfile.CustomExtension;
import dev.cvmkms.kms.keys.csr.CertConfig;
import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * The two certificates SignCert mints (spec §8.3 item 5, §10.9): the per-app CA, re-derived and
 * re-signed by the root CA on every call, and the app's leaf from its CSR, signed by that App CA.
 * Pure functions; run them on the crypto pool.
 */
public final class AppCertificates {
  public static final String APP_CA_CN = "Dstack App CA";
  public static final String USAGE_APP_CA = "app:ca";
  public static final String USAGE_APP_CUSTOM = "app:custom";

  private AppCertificates() {}

  /**
   * {@code O=Dstack, CN=Dstack App CA}, CA with pathLen 0, extensions app_id (20 raw bytes) and
   * special usage {@code app:ca}, notAfter now + 10 years, issued by the root CA.
   */
  public static X509Certificate appCa(
      PublicKey appCaKey,
      byte[] appId,
      X509Certificate rootCaCert,
      PrivateKey rootCaKey,
      Instant now) {
    CertProfile profile =
        new CertProfile(
            Optional.of(CertificateIssuer.ORG),
            APP_CA_CN,
            List.of(),
            OptionalInt.of(0),
            false,
            false,
            List.of(
                new CustomExtension(CertExtensions.APP_ID, appId),
                new CustomExtension(CertExtensions.SPECIAL_USAGE, ascii(USAGE_APP_CA))),
            Optional.empty(),
            Optional.empty());
    return CertificateIssuer.issue(
        profile, appCaKey.getEncoded(), CertificateIssuer.subjectOf(rootCaCert), rootCaKey, now);
  }

  /**
   * The app leaf for a CSR's key and config: subject/SAN/EKU/validity from the config, extensions
   * app_id, app_info if {@code ext_app_info}, special usage {@code app:custom} and, if {@code
   * ext_quote}, the CSR's stripped attestation.
   *
   * @param appInfo the 1.9 content ({@link AppInfoExtension}) to embed when the config asks for it
   * @param strippedAttestation the 1.8 content to embed when the config asks for it
   * @throws IllegalArgumentException for a SAN that is not an IA5 string
   */
  public static X509Certificate leaf(
      byte[] subjectSpkiDer,
      CertConfig config,
      byte[] appId,
      Optional<byte[]> appInfo,
      Optional<byte[]> strippedAttestation,
      X509Certificate appCaCert,
      PrivateKey appCaKey,
      Instant now) {
    List<CustomExtension> custom = new ArrayList<>();
    custom.add(new CustomExtension(CertExtensions.APP_ID, appId));
    if (config.extAppInfo()) {
      custom.add(
          new CustomExtension(
              CertExtensions.APP_INFO,
              appInfo.orElseThrow(
                  () -> new IllegalArgumentException("ext_app_info without an app info"))));
    }
    custom.add(new CustomExtension(CertExtensions.SPECIAL_USAGE, ascii(USAGE_APP_CUSTOM)));
    if (config.extQuote()) {
      custom.add(
          new CustomExtension(
              CertExtensions.ATTESTATION,
              strippedAttestation.orElseThrow(
                  () -> new IllegalArgumentException("ext_quote without an attestation"))));
    }
    CertProfile profile =
        new CertProfile(
            config.orgName(),
            config.subject(),
            config.subjectAltNames(),
            OptionalInt.empty(),
            config.usageServerAuth(),
            config.usageClientAuth(),
            custom,
            seconds(config.notBefore()),
            seconds(config.notAfter()));
    return CertificateIssuer.issue(
        profile, subjectSpkiDer, CertificateIssuer.subjectOf(appCaCert), appCaKey, now);
  }

  private static Optional<Instant> seconds(OptionalLong unixSeconds) {
    return unixSeconds.isPresent()
        ? Optional.of(Instant.ofEpochSecond(unixSeconds.getAsLong()))
        : Optional.empty();
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}
