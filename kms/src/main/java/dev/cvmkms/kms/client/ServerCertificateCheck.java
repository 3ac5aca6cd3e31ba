package dev.cvmkms.kms.client;

import dev.cvmkms.kms.client.KmsClientException.Reason;
import dev.cvmkms.kms.keys.CertExtensions;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.cert.CertPath;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * What a dstack guest requires of a KMS's TLS server certificate (spec §14.1 step 3), checked here
 * for every connection: the chain ends at the trusted root (PKIX, no revocation), the host we
 * dialled is in the leaf's subjectAltName, and the leaf carries the special usage {@code kms:rpc}.
 * The attestation is {@link ServerAttestationPolicy}'s business. Pure and fast: a few signature
 * checks.
 */
public final class ServerCertificateCheck {
  private ServerCertificateCheck() {}

  /**
   * Checks the server's chain, host name and usage, and returns its leaf.
   *
   * @param chain the server's chain, leaf first (dstack's KMS sends only the leaf)
   * @param root the only trust anchor
   * @param host the host name or IP literal we connected to
   * @return the leaf
   * @throws KmsClientException (SERVER_REJECTED) naming the failed check
   */
  public static X509Certificate check(
      List<X509Certificate> chain, X509Certificate root, String host, Instant now) {
    if (chain.isEmpty()) {
      throw rejected("the server presented no certificate");
    }
    X509Certificate leaf = chain.get(0);
    requireChainsTo(chain, root, now);
    if (!hostMatches(leaf, host)) {
      throw rejected("the server certificate is not valid for host " + host);
    }
    byte[] usage;
    try {
      usage = CertExtensions.content(leaf, CertExtensions.SPECIAL_USAGE).orElse(null);
    } catch (IllegalArgumentException e) {
      throw rejected("the server certificate's special usage extension is malformed");
    }
    if (usage == null
        || !CertExtensions.USAGE_KMS_RPC.equals(new String(usage, StandardCharsets.UTF_8))) {
      throw rejected("the server certificate is not a KMS RPC certificate (no kms:rpc usage)");
    }
    return leaf;
  }

  private static void requireChainsTo(
      List<X509Certificate> chain, X509Certificate root, Instant now) {
    List<X509Certificate> path = new ArrayList<>();
    for (X509Certificate c : chain) {
      if (!c.equals(root)) { // a server may append the anchor itself; PKIX wants it out
        path.add(c);
      }
    }
    if (path.isEmpty()) {
      throw rejected("the server presented the root CA itself, not an RPC certificate");
    }
    try {
      CertPath certPath = CertificateFactory.getInstance("X.509").generateCertPath(path);
      PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(root, null)));
      params.setRevocationEnabled(false);
      params.setDate(Date.from(now));
      CertPathValidator.getInstance("PKIX").validate(certPath, params);
    } catch (GeneralSecurityException e) {
      throw new KmsClientException(
          Reason.SERVER_REJECTED,
          "the server certificate does not chain to the trusted root CA: " + e.getMessage(),
          e);
    }
  }

  /** RFC 6125 style: IP literals against iPAddress SANs, names against dNSName SANs. */
  static boolean hostMatches(X509Certificate leaf, String host) {
    Collection<List<?>> sans;
    try {
      sans = leaf.getSubjectAlternativeNames();
    } catch (CertificateParsingException e) {
      return false;
    }
    if (sans == null) {
      return false;
    }
    byte[] ip = ipLiteral(host);
    for (List<?> san : sans) {
      int type = (Integer) san.get(0);
      String value = String.valueOf(san.get(1));
      if (ip != null && type == 7) {
        byte[] sanIp = ipLiteral(value);
        if (sanIp != null && Arrays.equals(ip, sanIp)) {
          return true;
        }
      } else if (ip == null && type == 2 && dnsMatches(value, host)) {
        return true;
      }
    }
    return false;
  }

  private static boolean dnsMatches(String pattern, String host) {
    String p = trimDot(pattern.toLowerCase(Locale.ROOT));
    String h = trimDot(host.toLowerCase(Locale.ROOT));
    if (p.startsWith("*.")) {
      int dot = h.indexOf('.');
      return dot > 0 && h.substring(dot + 1).equals(p.substring(2)) && p.length() > 2;
    }
    return p.equals(h);
  }

  private static String trimDot(String s) {
    return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
  }

  /** The address bytes of an IPv4/IPv6 literal, or null for a name (never resolves). */
  static byte @Nullable [] ipLiteral(String s) {
    String v = s.startsWith("[") && s.endsWith("]") ? s.substring(1, s.length() - 1) : s;
    boolean v4 = v.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
    boolean v6 = v.contains(":") && v.matches("[0-9A-Fa-f:.%a-zA-Z]+");
    if (!v4 && !v6) {
      return null;
    }
    try {
      return InetAddress.getByName(v).getAddress(); // a literal: no lookup happens
    } catch (UnknownHostException e) {
      return null;
    }
  }

  private static KmsClientException rejected(String message) {
    return new KmsClientException(Reason.SERVER_REJECTED, message);
  }
}
