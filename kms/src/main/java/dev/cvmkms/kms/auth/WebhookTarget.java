package dev.cvmkms.kms.auth;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.jspecify.annotations.Nullable;

/**
 * Where the webhook's three endpoints are (spec kms-protocol §7.2, §7.3) and how requests to them
 * look. URL userinfo becomes a Basic auth header (as reqwest does) and never appears in the request
 * line; the query is kept for the server but never shown.
 */
final class WebhookTarget {
  private final String shownUrl;
  private final String infoUri;
  private final String appUri;
  private final String kmsUri;
  private final @Nullable String basicAuth; // null without userinfo in the URL
  private final String userAgent;

  WebhookTarget(URI url, String version) {
    URI u = url;
    this.shownUrl = redacted(u);
    this.basicAuth = basicAuth(u.getRawUserInfo());
    this.userAgent = "cvm-kms/" + version;
    String path = u.getRawPath() == null ? "" : u.getRawPath();
    // GET <url> as configured; POST <url>/bootAuth/... joined with exactly one '/'.
    this.infoUri = uri(u, path);
    String dir = path.endsWith("/") ? path : path + "/";
    this.appUri = uri(u, dir + "bootAuth/app");
    this.kmsUri = uri(u, dir + "bootAuth/kms");
  }

  /** The URL without userinfo, query or fragment: the only form that goes into logs and errors. */
  static String redacted(URI u) {
    StringBuilder sb = new StringBuilder().append(u.getScheme()).append("://").append(u.getHost());
    if (u.getPort() >= 0) {
      sb.append(':').append(u.getPort());
    }
    if (u.getRawPath() != null) {
      sb.append(u.getRawPath());
    }
    return sb.toString();
  }

  /** The URL as it may appear in logs and errors: no userinfo, no query. */
  String shownUrl() {
    return shownUrl;
  }

  RequestOptions request(WebhookClient.Operation op, long connectTimeoutMs) {
    RequestOptions ro =
        new RequestOptions()
            .setFollowRedirects(false)
            .setConnectTimeout(connectTimeoutMs)
            .putHeader(HttpHeaders.USER_AGENT, userAgent);
    switch (op) {
      case INFO -> ro.setMethod(HttpMethod.GET).setAbsoluteURI(infoUri);
      case APP -> ro.setMethod(HttpMethod.POST).setAbsoluteURI(appUri);
      case KMS -> ro.setMethod(HttpMethod.POST).setAbsoluteURI(kmsUri);
    }
    if (op != WebhookClient.Operation.INFO) {
      ro.putHeader(HttpHeaders.CONTENT_TYPE, "application/json");
    }
    if (basicAuth != null) {
      ro.putHeader(HttpHeaders.AUTHORIZATION, basicAuth);
    }
    return ro;
  }

  private static String uri(URI u, String rawPath) {
    StringBuilder sb = new StringBuilder().append(u.getScheme()).append("://").append(u.getHost());
    if (u.getPort() >= 0) {
      sb.append(':').append(u.getPort());
    }
    sb.append(rawPath.isEmpty() ? "/" : rawPath);
    if (u.getRawQuery() != null) {
      sb.append('?').append(u.getRawQuery());
    }
    return sb.toString();
  }

  private static @Nullable String basicAuth(@Nullable String rawUserInfo) {
    if (rawUserInfo == null) {
      return null;
    }
    int colon = rawUserInfo.indexOf(':');
    String user = colon < 0 ? rawUserInfo : rawUserInfo.substring(0, colon);
    String pass = colon < 0 ? "" : rawUserInfo.substring(colon + 1);
    String plain = percentDecode(user) + ":" + percentDecode(pass);
    return "Basic " + Base64.getEncoder().encodeToString(plain.getBytes(StandardCharsets.UTF_8));
  }

  private static String percentDecode(String s) {
    // URLDecoder is for forms: protect '+' so it is not turned into a space.
    return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
  }
}
