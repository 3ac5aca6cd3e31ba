package dev.cvmkms.kms.ops;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;

/**
 * Health and metrics endpoints: {@code GET /health} (dstack compatibility: text {@code OK}), {@code
 * /healthz/live}, {@code /healthz/ready} and, when enabled, {@code /metrics} in Prometheus format.
 */
public final class OpsRoutes {
  private static final String TEXT = "text/plain; charset=utf-8";
  private static final String PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8";

  private OpsRoutes() {}

  public static void mount(
      Router router, Readiness readiness, PrometheusMeterRegistry registry, boolean metrics) {
    router
        .get("/health")
        .handler(ctx -> ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, TEXT).end("OK"));
    router
        .get("/healthz/live")
        .handler(ctx -> ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, TEXT).end("OK"));
    router
        .get("/healthz/ready")
        .handler(
            ctx -> {
              boolean ready = readiness.isReady();
              ctx.response()
                  .setStatusCode(ready ? 200 : 503)
                  .putHeader(HttpHeaders.CONTENT_TYPE, TEXT)
                  .end(ready ? "OK" : readiness.reason());
            });
    if (metrics) {
      // Scraping walks every meter: cheap, but keep it off the event loop's hot path budget.
      router
          .get("/metrics")
          .blockingHandler(
              ctx ->
                  ctx.response()
                      .putHeader(HttpHeaders.CONTENT_TYPE, PROMETHEUS)
                      .end(registry.scrape()),
              false);
    }
  }
}
