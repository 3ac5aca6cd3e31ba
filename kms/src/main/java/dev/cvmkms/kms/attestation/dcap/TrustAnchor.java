package dev.cvmkms.kms.attestation.dcap;

import dev.cvmkms.kms.attestation.Bytes;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The root every PCK, TCB-signing and CRL chain must lead to. Production pins the Intel SGX Root CA
 * in code; anything else (the mock root in CI and {@code kms dev}) goes through {@link
 * #insecureExternal}, which says so loudly in the log and is flagged so that {@code kms serve} can
 * refuse it.
 */
public final class TrustAnchor {
  private static final Logger LOG = LoggerFactory.getLogger(TrustAnchor.class);

  /** SHA-256 of the Intel SGX Root CA DER; checked when the pinned PEM is loaded. */
  public static final String INTEL_ROOT_SHA256 =
      "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3";

  private static final String INTEL_ROOT_PEM =
      """
      -----BEGIN CERTIFICATE-----
      MIICjzCCAjSgAwIBAgIUImUM1lqdNInzg7SVUr9QGzknBqwwCgYIKoZIzj0EAwIw
      aDEaMBgGA1UEAwwRSW50ZWwgU0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENv
      cnBvcmF0aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJ
      BgNVBAYTAlVTMB4XDTE4MDUyMTEwNDUxMFoXDTQ5MTIzMTIzNTk1OVowaDEaMBgG
      A1UEAwwRSW50ZWwgU0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENvcnBvcmF0
      aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJBgNVBAYT
      AlVTMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEC6nEwMDIYZOj/iPWsCzaEKi7
      1OiOSLRFhWGjbnBVJfVnkY4u3IjkDYYL0MxO4mqsyYjlBalTVYxFP2sJBK5zlKOB
      uzCBuDAfBgNVHSMEGDAWgBQiZQzWWp00ifODtJVSv1AbOScGrDBSBgNVHR8ESzBJ
      MEegRaBDhkFodHRwczovL2NlcnRpZmljYXRlcy50cnVzdGVkc2VydmljZXMuaW50
      ZWwuY29tL0ludGVsU0dYUm9vdENBLmRlcjAdBgNVHQ4EFgQUImUM1lqdNInzg7SV
      Ur9QGzknBqwwDgYDVR0PAQH/BAQDAgEGMBIGA1UdEwEB/wQIMAYBAf8CAQEwCgYI
      KoZIzj0EAwIDSQAwRgIhAOW/5QkR+S9CiSDcNoowLuPRLsWGf/Yi7GSX94BgwTwg
      AiEA4J0lrHoMs+Xo5o/sX6O9QWxHRAvZUGOdRQ7cvqRXaqI=
      -----END CERTIFICATE-----
      """;

  private static final TrustAnchor INTEL = loadIntel();

  private final X509Certificate root;
  private final byte[] rootDer;
  private final boolean insecure;

  private TrustAnchor(X509Certificate root, boolean insecure) {
    this.root = root;
    this.insecure = insecure;
    try {
      this.rootDer = root.getEncoded();
    } catch (CertificateEncodingException e) {
      throw new IllegalArgumentException("root certificate cannot be encoded", e);
    }
  }

  private static TrustAnchor loadIntel() {
    X509Certificate c = Certs.parsePemChain(INTEL_ROOT_PEM, "Intel SGX Root CA").get(0);
    TrustAnchor a = new TrustAnchor(c, false);
    if (!Bytes.hex(Bytes.sha256(a.rootDer)).equals(INTEL_ROOT_SHA256)) {
      throw new IllegalStateException("pinned Intel SGX Root CA does not match its hash");
    }
    return a;
  }

  /** The pinned Intel SGX Root CA: the only anchor for production. */
  public static TrustAnchor intelSgxRoot() {
    return INTEL;
  }

  /**
   * A root that is not Intel's (the mock PKI). Anything signed under it is accepted as "genuine
   * TDX", so this is for CI and {@code kms dev} only; it is logged at WARN every time one is made.
   */
  public static TrustAnchor insecureExternal(X509Certificate root) {
    if (Bytes.equal(encoded(root), INTEL.rootDer)) {
      return INTEL;
    }
    LOG.warn(
        "INSECURE: TDX quotes will be trusted under a non-Intel root '{}' (sha256 {}); never use"
            + " this in production",
        root.getSubjectX500Principal().getName(),
        Bytes.hex(Bytes.sha256(encoded(root))));
    return new TrustAnchor(root, true);
  }

  /**
   * The anchor a configuration asks for, with dstack's guard: a custom root ({@code
   * [core.attestation.root_ca].tdx}) is refused unless {@code insecureAllowExternalTrustAnchors} is
   * also set. {@code rootPem} null or blank means the pinned Intel root.
   *
   * @throws IllegalArgumentException naming the setting, so start-up fails clearly
   */
  public static TrustAnchor fromConfig(
      @Nullable String rootPem, boolean insecureAllowExternalTrustAnchors) {
    if (rootPem == null || rootPem.isBlank()) {
      return INTEL;
    }
    X509Certificate c;
    try {
      c = Certs.parsePemChain(rootPem, "configured TDX root CA").get(0);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("the configured TDX root CA is not a PEM certificate");
    }
    if (!insecureAllowExternalTrustAnchors && !Bytes.equal(encoded(c), INTEL.rootDer)) {
      throw new IllegalArgumentException(
          "a non-Intel TDX root CA is configured but insecure_allow_external_trust_anchors is"
              + " not set");
    }
    return insecureExternal(c);
  }

  private static byte[] encoded(X509Certificate c) {
    try {
      return c.getEncoded();
    } catch (CertificateEncodingException e) {
      throw new IllegalArgumentException("root certificate cannot be encoded", e);
    }
  }

  public X509Certificate root() {
    return root;
  }

  boolean isRoot(X509Certificate c) {
    try {
      return Bytes.equal(c.getEncoded(), rootDer);
    } catch (CertificateEncodingException e) {
      return false;
    }
  }

  /** True unless this is the pinned Intel root. */
  public boolean isInsecure() {
    return insecure;
  }

  @Override
  public String toString() {
    return (insecure ? "INSECURE external root " : "Intel SGX Root CA ")
        + root.getSubjectX500Principal().getName();
  }
}
