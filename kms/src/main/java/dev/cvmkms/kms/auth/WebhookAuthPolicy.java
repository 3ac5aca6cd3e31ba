package dev.cvmkms.kms.auth;

import dev.cvmkms.kms.KmsException;
import dev.cvmkms.kms.attestation.BootInfo;
import dev.cvmkms.kms.auth.WebhookClient.Operation;
import dev.cvmkms.kms.config.AuthApiConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;

/**
 * {@code [core.auth_api] type = "webhook"}: metadata from the {@link AuthInfoCache}, decisions from
 * {@code POST <url>/bootAuth/app|kms} on every call. Decisions are never cached across requests (a
 * revoked app loses access on its next request); identical concurrent checks share one upstream
 * call. Every failure is fail-closed: a {@link KmsException} of kind UPSTREAM_UNAVAILABLE whose
 * message says what went wrong.
 */
public final class WebhookAuthPolicy implements AuthPolicy {
  private final WebhookClient client;
  private final AuthInfoCache infoCache;
  private final SingleFlight<String, BootDecision> inFlight = new SingleFlight<>();

  public WebhookAuthPolicy(WebhookClient client, AuthInfoCache infoCache) {
    this.client = client;
    this.infoCache = infoCache;
  }

  /**
   * Wires the one client and the metadata cache, and starts the cache's background refresh.
   *
   * @param version the KMS version, sent as {@code User-Agent: cvm-kms/<version>}
   */
  public static WebhookAuthPolicy start(
      Vertx vertx, AuthApiConfig.Webhook settings, MeterRegistry registry, String version) {
    WebhookClient client = new WebhookClient(vertx, settings, registry, version);
    AuthInfoCache cache =
        new AuthInfoCache(
            vertx, client::info, settings.infoRefresh(), settings.infoMaxStale(), registry);
    cache.start();
    return new WebhookAuthPolicy(client, cache);
  }

  @Override
  public Future<AuthInfo> info() {
    return infoCache.get();
  }

  @Override
  public Future<BootDecision> checkApp(BootInfo boot) {
    return decide(Operation.APP, boot);
  }

  @Override
  public Future<BootDecision> checkKms(BootInfo boot) {
    return decide(Operation.KMS, boot);
  }

  public AuthInfoCache infoCache() {
    return infoCache;
  }

  public WebhookClient client() {
    return client;
  }

  /** Stops the refresh timer and closes the connection pool. */
  public Future<Void> close() {
    infoCache.close();
    return client.close();
  }

  private Future<BootDecision> decide(Operation op, BootInfo boot) {
    byte[] body = WebhookJson.encode(boot);
    // Same endpoint and byte-identical body = the same question; only then may calls be shared.
    String key = op.tag() + '\n' + new String(body, StandardCharsets.UTF_8);
    return inFlight
        .run(key, () -> client.bootAuth(op, body))
        .recover(
            e ->
                Future.failedFuture(
                    e instanceof KmsException
                        ? e
                        : new KmsException(
                            KmsException.Kind.UPSTREAM_UNAVAILABLE,
                            e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage(),
                            e)));
  }
}
