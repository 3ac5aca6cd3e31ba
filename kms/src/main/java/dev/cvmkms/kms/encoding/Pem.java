package dev.cvmkms.kms.encoding;

import java.io.ByteArrayInputStream;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * PEM text as dstack writes it: 64-character base64 lines, LF line endings. The one PEM reader of
 * the KMS: keys and certificates on disk, certificate chains in quotes and collateral, CRLs.
 */
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
      // strict: line breaks and spaces are the only non-alphabet characters a PEM body may hold
      // (the MIME decoder would skip any other character silently)
      der = Base64.getDecoder().decode(body.replaceAll("[\\r\\n\\t ]", ""));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("PEM body is not valid base64", e);
    }
    if (der.length == 0) {
      throw new IllegalArgumentException("empty PEM block");
    }
    return der;
  }

  /**
   * Decodes every PEM block of {@code text}, each of which must carry {@code label}; between and
   * after the blocks only whitespace (and the NUL terminators quotes and PCCS leave) is allowed.
   *
   * @throws IllegalArgumentException as {@link #decode}, or for no block, more than {@code max}
   *     blocks or other text between them
   */
  public static List<byte[]> decodeAll(String text, String label, int max) {
    List<byte[]> out = new ArrayList<>();
    String footer = "-----END " + label + "-----";
    int at = 0;
    while (true) {
      int begin = text.indexOf("-----BEGIN ", at);
      String between = begin < 0 ? text.substring(at) : text.substring(at, begin);
      if (!between.replace('\0', ' ').isBlank()) {
        throw new IllegalArgumentException("text outside the PEM blocks");
      }
      if (begin < 0) {
        break;
      }
      if (out.size() == max) {
        throw new IllegalArgumentException("more than " + max + " PEM blocks");
      }
      int end = text.indexOf(footer, begin);
      if (end < 0) {
        // decode names what is wrong: another label, a truncated header or footer
        decode(text.substring(begin), label);
        throw new IllegalArgumentException("truncated PEM: no '" + footer + "' line");
      }
      out.add(decode(text.substring(begin, end + footer.length()), label));
      at = end + footer.length();
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException("no PEM block found");
    }
    return out;
  }

  /** Parses every certificate of a PEM chain (at most {@code max}), in order. */
  public static List<X509Certificate> parseCertificates(String pem, int max) {
    List<X509Certificate> out = new ArrayList<>();
    for (byte[] der : decodeAll(pem, CERTIFICATE, max)) {
      out.add(certificate(der));
    }
    return out;
  }

  /** Parses the first certificate of a PEM text. */
  public static X509Certificate parseCertificate(String pem) {
    return certificate(decode(pem, CERTIFICATE));
  }

  private static X509Certificate certificate(byte[] der) {
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
