package dev.cvmkms.kms.ops;

import dev.cvmkms.kms.KmsVersion;
import dev.cvmkms.kms.config.ListenerLimits;
import dev.cvmkms.kms.rpc.Caller;
import dev.cvmkms.kms.rpc.PrpcErrors;
import dev.cvmkms.kms.rpc.PrpcMethod;
import dev.cvmkms.kms.rpc.PrpcRoutes;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The onboarding listener (spec §5.1): plain HTTP, as dstack's, on {@code [core.onboard]}, only
 * while the KMS has no keys. Routes: {@code GET /} the page, {@code GET /finish}, {@code GET
 * /health}, and {@code /prpc/Onboard.<Method>}. The page is one HTML file with inline script and no
 * external resources, and its Content-Security-Policy forbids loading any.
 */
public final class OnboardListener {
  private static final Logger LOG = LoggerFactory.getLogger(OnboardListener.class);
  static final String PAGE_RESOURCE = "/onboard/index.html";
  static final String PAGE_CSP =
      "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline';"
          + " connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none';"
          + " frame-ancestors 'none'";
  private static final String TEXT = "text/plain; charset=utf-8";
  private static final Duration MIN_IDLE = Duration.ofMinutes(2);

  private final HttpServer server;

  private OnboardListener(HttpServer server) {
    this.server = server;
  }

  /** Reads the page (call off the event loop, e.g. at start-up). */
  public static String loadPage() {
    try (InputStream in = OnboardListener.class.getResourceAsStream(PAGE_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("onboarding page " + PAGE_RESOURCE + " missing from jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@link #start} with the default listener limits. */
  public static Future<OnboardListener> start(
      Vertx vertx,
      String host,
      int port,
      List<PrpcMethod<?, ?>> methods,
      Function<Caller, Future<?>> finish,
      MeterRegistry registry) {
    return start(vertx, host, port, methods, finish, ListenerLimits.defaults(), registry);
  }

  /** Starts listening; the page is read here, before the first request. */
  public static Future<OnboardListener> start(
      Vertx vertx,
      String host,
      int port,
      List<PrpcMethod<?, ?>> methods,
      Function<Caller, Future<?>> finish,
      ListenerLimits listenerLimits,
      MeterRegistry registry) {
    String page = loadPage();
    PrpcRoutes prpc = new PrpcRoutes("Onboard.", methods, registry, KmsVersion.version());
    prpc.warmUp();
    Router router = Router.router(vertx);
    router
        .get("/")
        .handler(
            ctx ->
                ctx.response()
                    .putHeader(HttpHeaders.CONTENT_TYPE, "text/html; charset=utf-8")
                    .putHeader("Content-Security-Policy", PAGE_CSP)
                    .putHeader("X-Content-Type-Options", "nosniff")
                    .putHeader("Referrer-Policy", "no-referrer")
                    .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
                    .end(page));
    router
        .get("/health")
        .handler(ctx -> ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, TEXT).end("OK"));
    router
        .get("/finish")
        .handler(
            ctx ->
                finish
                    .apply(Caller.of(ctx.request()))
                    .onComplete(
                        ar ->
                            ctx.response()
                                .setStatusCode(ar.succeeded() ? 200 : 400)
                                .putHeader(HttpHeaders.CONTENT_TYPE, TEXT)
                                .end(
                                    ar.succeeded() ? "OK" : PrpcErrors.publicMessage(ar.cause()))));
    prpc.mount(router);
    // Onboard may wait up to the client's 60 s deadline on the source with the request connection
    // silent: the idle timeout must not cut it first.
    Duration idle = listenerLimits.idleTimeout();
    if (idle.compareTo(MIN_IDLE) < 0) {
      idle = MIN_IDLE;
    }
    ListenerGuard guard =
        new ListenerGuard(
            vertx,
            "onboard",
            new ListenerLimits(
                listenerLimits.headerTimeout(),
                listenerLimits.bodyTimeout(),
                idle,
                listenerLimits.maxHeaderSize(),
                listenerLimits.maxHeaders(),
                listenerLimits.maxUrlLength(),
                listenerLimits.maxConnections(),
                listenerLimits.maxConnectionsPerAddress(),
                listenerLimits.noBodyLimit()),
            path -> path.startsWith("/prpc/"),
            registry);
    guard.mount(router);
    HttpServerOptions options =
        guard.apply(
            new HttpServerOptions().setHost(host).setPort(port).setCompressionSupported(false));
    return guard
        .listen(guard.install(vertx.createHttpServer(options)).requestHandler(router))
        .map(OnboardListener::new);
  }

  public int port() {
    return server.actualPort();
  }

  /** Stops accepting and lets in-flight requests (the Finish answer) complete. */
  public Future<Void> stop(Duration grace) {
    return server.shutdown(grace.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * The whole phase, blocking the calling (non event-loop) thread: listen, wait for Finish, stop.
   *
   * @return the port it listened on
   */
  public static int runUntilFinished(
      Vertx vertx,
      String host,
      int port,
      List<PrpcMethod<?, ?>> methods,
      Function<Caller, Future<?>> finish,
      Future<Void> finished,
      ListenerLimits listenerLimits,
      MeterRegistry registry)
      throws Exception {
    OnboardListener listener =
        start(vertx, host, port, methods, finish, listenerLimits, registry)
            .toCompletionStage()
            .toCompletableFuture()
            .get(30, TimeUnit.SECONDS);
    LOG.info(
        "no keys yet: onboarding on http://{}:{}/ (Bootstrap or Onboard, then GET /finish)",
        host,
        listener.port());
    try {
      finished.toCompletionStage().toCompletableFuture().get();
    } finally {
      listener
          .stop(Duration.ofSeconds(5))
          .toCompletionStage()
          .toCompletableFuture()
          .get(10, TimeUnit.SECONDS);
    }
    LOG.info("onboarding listener stopped");
    return listener.port();
  }
}
