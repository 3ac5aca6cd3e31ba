package dev.cvmkms.kms.client;

import java.net.URI;
import java.net.URISyntaxException;

/** dstack's KMS URL rule: strip trailing slashes and append {@code /prpc} unless present. */
public final class KmsUrls {
  private KmsUrls() {}

  /**
   * The pRPC base of a KMS, e.g. {@code https://kms.example.com:8000/prpc}.
   *
   * @throws KmsClientException (INVALID_REQUEST) unless it is an absolute https URL with a host and
   *     no query or fragment
   */
  public static URI prpcBase(String url) {
    if (url == null || url.isBlank()) {
      throw invalid("the KMS URL is empty");
    }
    String s = url.trim();
    while (s.endsWith("/")) {
      s = s.substring(0, s.length() - 1);
    }
    if (!s.endsWith("/prpc")) {
      s = s + "/prpc";
    }
    URI uri;
    try {
      uri = new URI(s);
    } catch (URISyntaxException e) {
      throw invalid("the KMS URL is not a URL: " + e.getReason());
    }
    if (!"https".equalsIgnoreCase(uri.getScheme())) {
      throw invalid("the KMS URL must use https (RA-TLS): " + uri.getScheme());
    }
    if (uri.getHost() == null || uri.getHost().isEmpty()) {
      throw invalid("the KMS URL has no host");
    }
    if (uri.getRawQuery() != null || uri.getRawFragment() != null || uri.getRawUserInfo() != null) {
      throw invalid("the KMS URL must not carry a query, fragment or user info");
    }
    return uri;
  }

  /** The port of a base URL, 443 when absent. */
  static int port(URI base) {
    return base.getPort() < 0 ? 443 : base.getPort();
  }

  /** The host as TLS sees it: IPv6 literals without brackets. */
  static String host(URI base) {
    String h = base.getHost();
    return h.startsWith("[") && h.endsWith("]") ? h.substring(1, h.length() - 1) : h;
  }

  private static KmsClientException invalid(String message) {
    return new KmsClientException(KmsClientException.Reason.INVALID_REQUEST, message);
  }
}
