package dev.cvmkms.kms.attestation.dcap;

import dev.cvmkms.kms.attestation.AttestationException;
import dev.cvmkms.kms.attestation.AttestationException.Reason;
import dev.cvmkms.kms.encoding.Pem;
import java.io.ByteArrayInputStream;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Set;
import javax.security.auth.x500.X500Principal;

/**
 * Certificate and CRL checks done by hand rather than with PKIX, so each failure has a precise
 * reason and the time-independent parts (signatures) can be checked once per collateral.
 */
public final class Certs {
  /** keyUsage and basicConstraints: the only critical extensions Intel uses. */
  private static final Set<String> KNOWN_CRITICAL = Set.of("2.5.29.15", "2.5.29.19");

  private Certs() {}

  private static CertificateFactory factory() {
    try {
      return CertificateFactory.getInstance("X.509");
    } catch (CertificateException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Certificates in a chain at most (real PCK chains and issuer chains have 2 or 3). */
  private static final int MAX_CHAIN = 8;

  /**
   * Parses a PEM bundle (the one PEM reader, {@link Pem}): 1 to {@value #MAX_CHAIN} certificates,
   * nothing but whitespace or NUL terminators between them.
   */
  public static List<X509Certificate> parsePemChain(String pem, String what) {
    if (pem == null || pem.isBlank()) {
      throw new AttestationException(Reason.UNTRUSTED_CHAIN, what + ": empty certificate chain");
    }
    try {
      return Pem.parseCertificates(pem, MAX_CHAIN);
    } catch (IllegalArgumentException e) {
      String msg = e.getMessage();
      throw new AttestationException(
          Reason.UNTRUSTED_CHAIN,
          what
              + (msg != null && msg.startsWith("more than ")
                  ? ": more than " + MAX_CHAIN + " certificates"
                  : ": unparsable PEM chain"));
    }
  }

  public static X509Certificate parseDer(byte[] der, String what) {
    try {
      return (X509Certificate) factory().generateCertificate(new ByteArrayInputStream(der));
    } catch (CertificateException | RuntimeException e) {
      throw new AttestationException(Reason.UNTRUSTED_CHAIN, what + ": unparsable certificate");
    }
  }

  public static X509CRL parseCrl(byte[] der, String what) {
    try {
      return (X509CRL) factory().generateCRL(new ByteArrayInputStream(der));
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new AttestationException(Reason.INVALID_COLLATERAL, what + ": unparsable CRL");
    }
  }

  /** Checks that {@code issuer} issued {@code cert}: names, CA constraints, signature. */
  public static void requireIssuedBy(X509Certificate cert, X509Certificate issuer, String what) {
    if (!cert.getIssuerX500Principal().equals(issuer.getSubjectX500Principal())) {
      throw new AttestationException(
          Reason.UNTRUSTED_CHAIN, what + ": issuer name does not match its issuer certificate");
    }
    if (issuer.getBasicConstraints() < 0) {
      throw new AttestationException(Reason.UNTRUSTED_CHAIN, what + ": issuer is not a CA");
    }
    boolean[] ku = issuer.getKeyUsage();
    if (ku != null && (ku.length < 6 || !ku[5])) {
      throw new AttestationException(
          Reason.UNTRUSTED_CHAIN, what + ": issuer may not sign certificates");
    }
    requireKnownCritical(cert, what);
    try {
      cert.verify(issuer.getPublicKey());
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new AttestationException(Reason.UNTRUSTED_CHAIN, what + ": bad certificate signature");
    }
  }

  static void requireKnownCritical(X509Certificate cert, String what) {
    Set<String> crit = cert.getCriticalExtensionOIDs();
    if (crit != null && !KNOWN_CRITICAL.containsAll(crit)) {
      throw new AttestationException(Reason.UNTRUSTED_CHAIN, what + ": unknown critical extension");
    }
  }

  public static void requireCrlSignedBy(X509CRL crl, X509Certificate issuer, String what) {
    if (!crl.getIssuerX500Principal().equals(issuer.getSubjectX500Principal())) {
      throw new AttestationException(
          Reason.INVALID_COLLATERAL, what + ": CRL issuer does not match its issuer chain");
    }
    boolean[] ku = issuer.getKeyUsage();
    if (ku != null && (ku.length < 7 || !ku[6])) {
      throw new AttestationException(
          Reason.INVALID_COLLATERAL, what + ": CRL issuer may not sign CRLs");
    }
    try {
      crl.verify(issuer.getPublicKey());
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new AttestationException(Reason.BAD_SIGNATURE, what + ": bad CRL signature");
    }
  }

  public static void requireValidAt(X509Certificate cert, Instant now, String what) {
    Instant notBefore = cert.getNotBefore().toInstant();
    Instant notAfter = cert.getNotAfter().toInstant();
    if (now.isBefore(notBefore) || now.isAfter(notAfter)) {
      throw new AttestationException(
          Reason.EXPIRED, what + ": certificate valid " + notBefore + " to " + notAfter);
    }
  }

  public static void requireCurrent(X509CRL crl, Instant now, String what) {
    Instant thisUpdate = crl.getThisUpdate().toInstant();
    Date nextUpdate = crl.getNextUpdate(); // null when the CRL has none
    Instant next = nextUpdate == null ? null : nextUpdate.toInstant();
    if (now.isBefore(thisUpdate) || next == null || now.isAfter(next)) {
      throw new AttestationException(
          Reason.EXPIRED,
          what + ": CRL valid " + thisUpdate + " to " + (next == null ? "(no nextUpdate)" : next));
    }
  }

  public static void requireNotRevoked(X509CRL crl, X509Certificate cert, String what) {
    if (crl.isRevoked(cert)) {
      throw new AttestationException(
          Reason.CERT_REVOKED,
          what + " (serial " + cert.getSerialNumber().toString(16) + ") is revoked");
    }
  }

  public static String commonName(X500Principal p) {
    for (String part : p.getName(X500Principal.RFC2253).split(",", -1)) {
      String t = part.trim();
      if (t.startsWith("CN=")) {
        return t.substring(3);
      }
    }
    return "";
  }
}
