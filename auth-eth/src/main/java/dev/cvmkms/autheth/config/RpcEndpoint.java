package dev.cvmkms.autheth.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Where the JSON-RPC provider is and how its API key travels. The whole URL is treated as secret
 * (providers put keys in paths such as {@code /v2/<key>}); only {@link #publicUrl()} may be shown.
 *
 * @param urlTemplate the configured URL; {@value #KEY_PLACEHOLDER} in it is replaced by the key
 * @param apiKey the separately given key, if any
 * @param apiKeyHeader the header that carries the key when the URL has no placeholder
 */
public record RpcEndpoint(String urlTemplate, Optional<String> apiKey, String apiKeyHeader) {
  public static final String KEY_PLACEHOLDER = "{apiKey}";

  public RpcEndpoint {
    URI uri = parse(urlTemplate.replace(KEY_PLACEHOLDER, "k"));
    if (uri == null
        || uri.getHost() == null
        || !("http".equalsIgnoreCase(uri.getScheme())
            || "https".equalsIgnoreCase(uri.getScheme()))) {
      throw new ConfigException("ETH_RPC_URL must be an absolute http:// or https:// URL");
    }
    if (urlTemplate.contains(KEY_PLACEHOLDER) && apiKey.isEmpty()) {
      throw new ConfigException(
          "ETH_RPC_URL contains " + KEY_PLACEHOLDER + " but ETH_RPC_API_KEY is unset");
    }
    if (apiKey.isPresent() && apiKey.get().isBlank()) {
      throw new ConfigException("ETH_RPC_API_KEY is set but empty");
    }
    if (apiKeyHeader.isBlank() || !apiKeyHeader.matches("[A-Za-z0-9-]+")) {
      throw new ConfigException("ETH_RPC_API_KEY_HEADER must be an HTTP header name");
    }
  }

  /** The URL requests go to (secret: contains the key when substituted). */
  public String requestUrl() {
    return apiKey.map(k -> urlTemplate.replace(KEY_PLACEHOLDER, k)).orElse(urlTemplate);
  }

  /** The header to add, when the key is not in the URL. */
  public Optional<String> keyHeaderValue() {
    return urlTemplate.contains(KEY_PLACEHOLDER) ? Optional.empty() : apiKey;
  }

  /**
   * {@code scheme://host[:port]} as upstream shows it on {@code GET /}: no user info, path or
   * query, default port omitted; "configured" when it cannot be parsed.
   */
  public String publicUrl() {
    return publicForm(urlTemplate.replace(KEY_PLACEHOLDER, "k"));
  }

  static String publicForm(String url) {
    URI uri = parse(url);
    if (uri == null || uri.getScheme() == null || uri.getHost() == null) {
      return "configured";
    }
    String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
    int port = uri.getPort();
    boolean defaultPort =
        port == -1
            || ("http".equals(scheme) && port == 80)
            || ("https".equals(scheme) && port == 443);
    return scheme
        + "://"
        + uri.getHost().toLowerCase(Locale.ROOT)
        + (defaultPort ? "" : ":" + port);
  }

  private static @Nullable URI parse(String url) {
    try {
      return new URI(url);
    } catch (URISyntaxException e) {
      return null;
    }
  }

  /** Secrets stay out of logs even when the whole record is printed. */
  @Override
  public String toString() {
    return "RpcEndpoint["
        + publicUrl()
        + ", apiKey="
        + (apiKey.isPresent() ? "<redacted>" : "none")
        + "]";
  }
}
