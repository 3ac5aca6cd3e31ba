package dev.cvmkms.kms.config;

import java.net.URI;
import java.time.Duration;

/**
 * {@code [core.auth_api]}: who decides whether an app or KMS may get keys. A closed choice, as
 * dstack's tagged {@code AuthApi}: {@code type = "webhook"} with {@code [core.auth_api.webhook]},
 * or {@code type = "dev"} with {@code [core.auth_api.dev]}. There is no "none".
 */
public sealed interface AuthApiConfig permits AuthApiConfig.Dev, AuthApiConfig.Webhook {

  /** The {@code type} value. */
  String type();

  /**
   * Allows everything (attestation is still verified). For local development only.
   *
   * @param gatewayAppId reported as the gateway app id ({@code gateway_app_id})
   */
  record Dev(String gatewayAppId) implements AuthApiConfig {
    public static final String DEFAULT_GATEWAY_APP_ID = "any";

    public Dev {
      Checks.present("core.auth_api.dev.gateway_app_id", gatewayAppId);
    }

    @Override
    public String type() {
      return "dev";
    }
  }

  /**
   * Asks an HTTP policy service (auth-eth or compatible): {@code POST <url>/bootAuth/app}, {@code
   * POST <url>/bootAuth/kms} and {@code GET <url>}.
   *
   * @param url base URL ({@code url})
   * @param client budgets of the one shared webhook client (ours)
   * @param infoRefresh the {@code GET <url>} metadata is refreshed ahead this often ({@code
   *     info_refresh}, ours)
   * @param infoMaxStale after this long without a successful refresh the cached metadata is no
   *     longer served ({@code info_max_stale}, ours)
   */
  record Webhook(URI url, OutboundClientConfig client, Duration infoRefresh, Duration infoMaxStale)
      implements AuthApiConfig {
    public static final URI DEFAULT_URL = URI.create("http://auth-api:8000");
    public static final Duration DEFAULT_INFO_REFRESH = Duration.ofSeconds(60);
    public static final Duration DEFAULT_INFO_MAX_STALE = Duration.ofHours(24);

    public Webhook {
      Checks.httpUrl("core.auth_api.webhook.url", url);
      Checks.present("core.auth_api.webhook", client);
      Checks.range(
          "core.auth_api.webhook.info_refresh",
          infoRefresh,
          Duration.ofSeconds(1),
          Duration.ofHours(24));
      Checks.positive("core.auth_api.webhook.info_max_stale", infoMaxStale, Duration.ofDays(7));
      if (infoMaxStale.compareTo(infoRefresh) < 0) {
        throw new ConfigException(
            "core.auth_api.webhook.info_max_stale",
            "core.auth_api.webhook.info_max_stale must be at least"
                + " core.auth_api.webhook.info_refresh");
      }
    }

    /** A webhook at {@code url} with every other setting at its default. */
    public static Webhook at(URI url) {
      return new Webhook(
          url, OutboundClientConfig.defaults(), DEFAULT_INFO_REFRESH, DEFAULT_INFO_MAX_STALE);
    }

    /** {@code <url>/bootAuth/app} (a slash is added to the base if missing, as dstack does). */
    public URI bootAuthAppUrl() {
      return resolve("bootAuth/app");
    }

    /** {@code <url>/bootAuth/kms}. */
    public URI bootAuthKmsUrl() {
      return resolve("bootAuth/kms");
    }

    /** The metadata ({@code get_info}) endpoint: the base URL itself, nothing appended. */
    public URI infoUrl() {
      return url;
    }

    private URI resolve(String path) {
      String base = url.toString();
      return URI.create(base.endsWith("/") ? base + path : base + "/" + path);
    }

    @Override
    public String type() {
      return "webhook";
    }
  }
}
