package dev.cvmkms.kms.keys;

import java.io.ByteArrayInputStream;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Base64;

/** PEM text as dstack writes it: one block, 64-character base64 lines, LF line endings. */
public final class Pem {
  public static final String CERTIFICATE = "CERTIFICATE";
  public static final String PRIVATE_KEY = "PRIVATE KEY";

  private Pem() {}

  /** Encodes {@code der} as a PEM block with a trailing newline. */
  public static String encode(String label, byte[] der) {
    String body = Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der);
    return "-----BEGIN " + label + "-----\n" + body + "\n-----END " + label + "-----\n";
  }

  /**
   * Decodes the first PEM block of {@code text}, which must carry {@code label}.
   *
   * @throws IllegalArgumentException naming what is wrong (no block, other label, truncated, bad
   *     base64); never includes the content, which may be a secret
   */
  public static byte[] decode(String text, String label) {
    int begin = text.indexOf("-----BEGIN ");
    if (begin < 0) {
      throw new IllegalArgumentException("no PEM block found");
    }
    int labelEnd = text.indexOf("-----", begin + 11);
    if (labelEnd < 0) {
      throw new IllegalArgumentException("truncated PEM header");
    }
    String found = text.substring(begin + 11, labelEnd);
    if (!found.equals(label)) {
      throw new IllegalArgumentException(
          "expected a PEM block '" + label + "' but found '" + found + "'");
    }
    String footer = "-----END " + label + "-----";
    int end = text.indexOf(footer, labelEnd + 5);
    if (end < 0) {
      throw new IllegalArgumentException("truncated PEM: no '" + footer + "' line");
    }
    String body = text.substring(labelEnd + 5, end);
    if (body.contains(":")) {
      throw new IllegalArgumentException("encrypted or annotated PEM blocks are not supported");
    }
    byte[] der;
    try {
      der = Base64.getMimeDecoder().decode(body.strip());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("PEM body is not valid base64", e);
    }
    if (der.length == 0) {
      throw new IllegalArgumentException("empty PEM block");
    }
    return der;
  }

  /** Parses the first certificate of a PEM text. */
  public static X509Certificate parseCertificate(String pem) {
    byte[] der = decode(pem, CERTIFICATE);
    try {
      return (X509Certificate)
          CertificateFactory.getInstance("X.509")
              .generateCertificate(new ByteArrayInputStream(der));
    } catch (CertificateException e) {
      throw new IllegalArgumentException("not a valid X.509 certificate: " + e.getMessage(), e);
    }
  }

  /** PEM of a certificate's DER encoding. */
  public static String certificate(X509Certificate cert) {
    try {
      return encode(CERTIFICATE, cert.getEncoded());
    } catch (java.security.cert.CertificateEncodingException e) {
      throw new IllegalStateException("certificate cannot be encoded", e);
    }
  }
}
