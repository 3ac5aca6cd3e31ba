package dev.cvmkms.kms.rpc;

import dev.cvmkms.kms.attestation.ratls.RaTlsExtensions;
import dev.cvmkms.kms.config.RateLimitConfig;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.jspecify.annotations.Nullable;

/**
 * Who a request counts against for rate limiting: {@code app:<hex>} from the app-id extension of
 * the RA-TLS client certificate when the client presented one, else {@code ip:<address>} of the
 * peer; when the peer is a trusted proxy, the right-most address in the forwarding header that is
 * not itself a trusted proxy. Never a secret, never logged or exported as a metric label.
 */
public final class ClientKey {
  private static final int MAX_APP_ID_BYTES = 64;
  private static final int MAX_FORWARDED_LENGTH = 1024;

  private final Set<String> trustedProxies;
  private final String forwardedHeader;

  public ClientKey(RateLimitConfig config) {
    this.trustedProxies = Set.copyOf(config.trustedProxies());
    this.forwardedHeader = config.forwardedHeader();
  }

  /**
   * Who a request counts against.
   *
   * @param bucket the client's key: {@code app:<hex>} or {@code ip:<address>}
   * @param address {@code ip:<address>} of the request, the same resolution as for a client without
   *     a certificate (for the per-address ceiling)
   */
  public record Id(String bucket, String address) {
    /** Keyed by a certificate's (not yet verified) app id. */
    public boolean certificate() {
      return bucket.startsWith("app:");
    }
  }

  public Id idOf(HttpServerRequest request) {
    String address = address(request);
    String app = appId(request.connection());
    return new Id(app != null ? app : address, address);
  }

  private String address(HttpServerRequest request) {
    SocketAddress remote = request.remoteAddress();
    String host = remote == null ? null : remote.hostAddress();
    if (host == null) {
      return "ip:unknown";
    }
    if (!trustedProxies.isEmpty() && trustedProxies.contains(host)) {
      String forwarded = forwarded(request.getHeader(forwardedHeader));
      if (forwarded != null) {
        return "ip:" + forwarded;
      }
    }
    return "ip:" + host;
  }

  /** The right-most entry not naming a trusted proxy; null when there is none usable. */
  private @Nullable String forwarded(@Nullable String header) {
    if (header == null || header.isEmpty() || header.length() > MAX_FORWARDED_LENGTH) {
      return null;
    }
    String[] hops = header.split(",", -1);
    int end = hops.length;
    // Trailing empty entries ("a,b,") are skipped, not a bad hop: split(",")'s old rule.
    while (end > 0 && hops[end - 1].isEmpty()) {
      end--;
    }
    for (int i = end - 1; i >= 0; i--) {
      String hop = hops[i].strip();
      if (hop.isEmpty()) {
        return null;
      }
      if (!trustedProxies.contains(hop)) {
        return hop;
      }
    }
    return null;
  }

  private static @Nullable String appId(@Nullable HttpConnection connection) {
    if (connection == null || !connection.isSsl()) {
      return null;
    }
    List<Certificate> chain;
    try {
      chain = connection.peerCertificates();
    } catch (SSLPeerUnverifiedException e) {
      return null;
    }
    if (chain == null || chain.isEmpty() || !(chain.get(0) instanceof X509Certificate leaf)) {
      return null;
    }
    byte[] id;
    try {
      id = RaTlsExtensions.content(leaf, RaTlsExtensions.APP_ID);
    } catch (RuntimeException e) {
      return null; // a malformed extension: count the client by its address instead
    }
    if (id == null || id.length == 0 || id.length > MAX_APP_ID_BYTES) {
      return null;
    }
    return "app:" + HexFormat.of().formatHex(id);
  }
}
