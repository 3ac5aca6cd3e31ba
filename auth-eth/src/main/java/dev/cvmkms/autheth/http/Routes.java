package dev.cvmkms.autheth.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import dev.cvmkms.autheth.policy.BootInfoParser;
import dev.cvmkms.autheth.policy.BootResponse;
import dev.cvmkms.autheth.policy.DecisionService;
import dev.cvmkms.autheth.policy.MetadataCache;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.core.json.jackson.JacksonCodec;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * The HTTP surface, with upstream's paths, bodies and status codes: {@code GET|HEAD /}, {@code POST
 * /bootAuth/app|kms}; plus our {@code /healthz/live}, {@code /healthz/ready} and {@code /metrics}.
 * Paths match exactly (no trailing slash), the query string is ignored.
 */
public final class Routes implements Handler<HttpServerRequest> {
  static final String JSON = "application/json; charset=utf-8";
  private static final String BACKEND_ERROR =
      new JsonObject().put("status", "error").put("message", BootResponse.UNAVAILABLE).encode();
  private static final String INVALID =
      new JsonObject()
          .put("isAllowed", false)
          .put("reason", "invalid authorization request")
          .put("gatewayAppId", "")
          .encode();

  private final MetadataCache metadata;
  private final DecisionService decisions;
  private final PrometheusMeterRegistry registry;
  private final String kmsContractAddr;
  private final String publicRpcUrl;
  private final int maxBodyBytes;
  private final LongSupplier clock;
  private final @Nullable GlobalLimiter limiter; // null: off
  private volatile boolean draining;
  private volatile boolean listenersClosed;
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Routes.class);
  private final java.util.concurrent.atomic.AtomicInteger inFlight =
      new java.util.concurrent.atomic.AtomicInteger();
  private final java.util.concurrent.atomic.AtomicInteger cut =
      new java.util.concurrent.atomic.AtomicInteger();
  private final java.util.concurrent.atomic.AtomicLong served =
      new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.CompletableFuture<Void> idle =
      new java.util.concurrent.CompletableFuture<>();

  /**
   * Request bodies are parsed with these limits, checked as the parser reads (before a value is
   * built): the boot info is a flat object of short hex strings.
   */
  private static final JsonFactory BODY_JSON =
      JsonFactory.builder()
          .streamReadConstraints(
              StreamReadConstraints.builder()
                  .maxNestingDepth(32)
                  .maxStringLength(64 * 1024)
                  .maxNumberLength(64)
                  .maxNameLength(1024)
                  .build())
          .build();

  public Routes(
      MetadataCache metadata,
      DecisionService decisions,
      PrometheusMeterRegistry registry,
      String kmsContractAddr,
      String publicRpcUrl,
      int maxBodyBytes,
      LongSupplier clock) {
    this(metadata, decisions, registry, kmsContractAddr, publicRpcUrl, maxBodyBytes, clock, null);
  }

  /**
   * @param limiter when set, {@code GET /} and {@code /bootAuth/*} take a token first; without one
   *     they get 429 with {@code Retry-After} (health and metrics are never limited)
   */
  public Routes(
      MetadataCache metadata,
      DecisionService decisions,
      PrometheusMeterRegistry registry,
      String kmsContractAddr,
      String publicRpcUrl,
      int maxBodyBytes,
      LongSupplier clock,
      @Nullable GlobalLimiter limiter) {
    this.limiter = limiter;
    this.metadata = metadata;
    this.decisions = decisions;
    this.registry = registry;
    this.kmsContractAddr = kmsContractAddr;
    this.publicRpcUrl = publicRpcUrl;
    this.maxBodyBytes = maxBodyBytes;
    this.clock = clock;
  }

  @Override
  public void handle(HttpServerRequest req) {
    track(req);
    long start = clock.getAsLong();
    String path = req.path();
    HttpMethod method = req.method();
    boolean read = HttpMethod.GET.equals(method) || HttpMethod.HEAD.equals(method);
    String route;
    boolean limited =
        (read && path.equals("/"))
            || (HttpMethod.POST.equals(method)
                && (path.equals("/bootAuth/app") || path.equals("/bootAuth/kms")));
    if (limited && limiter != null) {
      Duration wait = limiter.tryAcquire();
      if (!wait.isZero()) {
        tooMany(req, wait, start, path);
        return;
      }
    }
    if (read && path.equals("/")) {
      route = "/";
      info(req, start);
    } else if (HttpMethod.POST.equals(method) && path.equals("/bootAuth/app")) {
      route = "/bootAuth/app";
      bootAuth(req, false, start, route);
    } else if (HttpMethod.POST.equals(method) && path.equals("/bootAuth/kms")) {
      route = "/bootAuth/kms";
      bootAuth(req, true, start, route);
    } else if (read && path.equals("/healthz/live")) {
      send(req, 200, JSON, "{\"status\":\"UP\"}", start, "/healthz/live");
    } else if (read && path.equals("/healthz/ready")) {
      ready(req, start);
    } else if (read && path.equals("/metrics")) {
      send(
          req,
          200,
          "text/plain; version=0.0.4; charset=utf-8",
          registry.scrape(),
          start,
          "/metrics");
    } else {
      String body =
          new JsonObject()
              .put("message", "Route " + method.name() + ":" + req.uri() + " not found")
              .put("error", "Not Found")
              .put("statusCode", 404)
              .encode();
      send(req, 404, JSON, body, start, "other");
    }
  }

  private void tooMany(HttpServerRequest req, Duration wait, long start, String route) {
    registry.counter("autheth_http_rate_limited_total", "route", route).increment();
    long seconds = Math.max(1, (wait.toNanos() + 999_999_999L) / 1_000_000_000L);
    String length = req.getHeader("content-length");
    boolean close =
        !req.isEnded()
            && (length == null ? req.getHeader("transfer-encoding") != null : !small(length));
    if (!req.isEnded()) {
      req.handler(chunk -> {});
    }
    req.response().putHeader("retry-after", Long.toString(seconds));
    if (close) {
      req.response().putHeader("connection", "close");
    }
    send(
        req,
        429,
        JSON,
        new JsonObject().put("status", "error").put("message", "rate limit exceeded").encode(),
        start,
        route);
    if (close) {
      req.response().endHandler(v -> req.connection().close());
    }
  }

  private boolean small(String contentLength) {
    try {
      return Long.parseLong(contentLength.trim()) <= maxBodyBytes;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  private void info(HttpServerRequest req, long start) {
    var snap = metadata.current();
    if (snap.isPresent()) {
      send(req, 200, JSON, infoJson(snap.get()), start, "/");
      return;
    }
    metadata
        .get()
        .onComplete(
            ar -> {
              if (ar.succeeded()) {
                send(req, 200, JSON, infoJson(ar.result()), start, "/");
              } else {
                send(req, 500, JSON, BACKEND_ERROR, start, "/");
              }
            });
  }

  private String infoJson(MetadataCache.Snapshot snap) {
    var m = snap.value();
    return new JsonObject()
        .put("status", "ok")
        .put("kmsContractAddr", kmsContractAddr)
        .put("ethRpcUrl", publicRpcUrl)
        .put("gatewayAppId", m.gatewayAppId())
        .put("chainId", m.chainId())
        .put("appAuthImplementation", m.appImplementation())
        .put("appImplementation", m.appImplementation())
        .put("metadataAgeMs", snap.ageMillis(clock))
        .encode();
  }

  /**
   * Shutdown phase 1: from now on readiness answers 503, so balancers stop sending before the
   * listeners close, and every HTTP/1.x response says {@code Connection: close} and closes its
   * connection, so keep-alive clients move off while the listener still accepts.
   */
  public void drain() {
    draining = true;
  }

  /**
   * Counts the request in flight until its response ends; one whose connection closes first while
   * draining was cut by the shutdown.
   */
  private void track(HttpServerRequest req) {
    inFlight.incrementAndGet();
    boolean[] done = {false};
    Runnable finish =
        () -> {
          if (done[0]) {
            return;
          }
          done[0] = true;
          if (req.response().ended()) {
            served.incrementAndGet();
          } else if (draining) {
            cut.incrementAndGet();
          }
          if (inFlight.decrementAndGet() == 0 && listenersClosed) {
            idle.complete(null);
          }
        };
    req.response().endHandler(v -> finish.run());
    req.response().closeHandler(v -> finish.run());
  }

  /**
   * Completes once draining and no request is in flight; fails naming how many were cut. Call after
   * the listeners' shutdown completed.
   */
  public java.util.concurrent.CompletionStage<Void> drained() {
    listenersClosed = true;
    if (inFlight.get() == 0) {
      idle.complete(null);
    }
    return idle.thenCompose(
        v -> {
          log.info(
              "http drain: listeners closed; {} requests served in total, {} cut",
              served.get(),
              cut.get());
          return cut.get() == 0
              ? java.util.concurrent.CompletableFuture.completedFuture(null)
              : java.util.concurrent.CompletableFuture.failedFuture(
                  new IllegalStateException(
                      cut.get() + " in-flight requests were cut when the budget ran out"));
        });
  }

  private void ready(HttpServerRequest req, long start) {
    var snap = metadata.current();
    String why = null;
    if (draining) {
      why = "shutting down";
    } else if (snap.isEmpty()) {
      why = "metadata not loaded";
    } else if (!decisions.chainMatches(snap.get().value().chainId())) {
      why = "provider chain id differs from ETH_CHAIN_ID";
    }
    if (why == null) {
      send(req, 200, JSON, "{\"status\":\"UP\"}", start, "/healthz/ready");
    } else {
      send(
          req,
          503,
          JSON,
          new JsonObject().put("status", "DOWN").put("reason", why).encode(),
          start,
          "/healthz/ready");
    }
  }

  private void bootAuth(HttpServerRequest req, boolean kms, long start, String route) {
    Buffer body = Buffer.buffer();
    boolean[] tooLarge = {false};
    req.handler(
        chunk -> {
          if (tooLarge[0]) {
            return;
          }
          if (body.length() + chunk.length() > maxBodyBytes) {
            tooLarge[0] = true;
            send(req, 500, JSON, BACKEND_ERROR, start, route);
          } else {
            body.appendBuffer(chunk);
          }
        });
    req.exceptionHandler(e -> {});
    req.endHandler(
        v -> {
          if (tooLarge[0]) {
            return;
          }
          Object parsed;
          try {
            parsed = parseBody(req.getHeader("content-type"), body);
          } catch (UnsupportedBody e) {
            send(req, 500, JSON, BACKEND_ERROR, start, route);
            return;
          }
          switch (BootInfoParser.parse(parsed)) {
            case BootInfoParser.Invalid i -> send(req, 400, JSON, INVALID, start, route);
            case BootInfoParser.BadAddress b ->
                sendBoot(req, BootResponse.unavailable(), start, route);
            case BootInfoParser.Valid ok ->
                decisions
                    .decide(ok.info(), kms)
                    .onComplete(
                        ar ->
                            sendBoot(
                                req,
                                ar.succeeded() ? ar.result() : BootResponse.unavailable(),
                                start,
                                route));
          }
        });
  }

  /** Thrown where fastify's own parsing fails, which upstream's error handler turns into a 500. */
  private static final class UnsupportedBody extends Exception {
    private static final long serialVersionUID = 1L;

    UnsupportedBody() {
      super(null, null, false, false);
    }
  }

  /** Fastify's content-type parsers: JSON, text as a plain string, anything else refused. */
  private static @Nullable Object parseBody(String contentType, Buffer body)
      throws UnsupportedBody {
    String type =
        contentType == null ? "" : contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
    if (type.isEmpty()) {
      if (body.length() == 0) {
        return null;
      }
      throw new UnsupportedBody();
    }
    if (type.equals("application/json") || type.endsWith("+json")) {
      if (body.length() == 0) {
        throw new UnsupportedBody();
      }
      try {
        return JacksonCodec.fromParser(BODY_JSON.createParser(body.getBytes()), Object.class);
      } catch (DecodeException | java.io.IOException e) {
        throw new UnsupportedBody();
      }
    }
    if (type.equals("text/plain")) {
      return body.toString();
    }
    throw new UnsupportedBody();
  }

  private void sendBoot(HttpServerRequest req, BootResponse r, long start, String route) {
    String result =
        r.isAllowed()
            ? "allowed"
            : BootResponse.UNAVAILABLE.equals(r.reason()) ? "unavailable" : "denied";
    registry.counter("autheth_bootauth_total", "route", route, "result", result).increment();
    String json =
        new JsonObject()
            .put("isAllowed", r.isAllowed())
            .put("reason", r.reason())
            .put("gatewayAppId", r.gatewayAppId())
            .encode();
    send(req, 200, JSON, json, start, route);
  }

  private void send(
      HttpServerRequest req, int status, String type, String body, long start, String route) {
    var resp = req.response();
    if (resp.ended() || resp.closed()) {
      return;
    }
    resp.setStatusCode(status).putHeader("content-type", type);
    boolean close = draining && req.version() != io.vertx.core.http.HttpVersion.HTTP_2;
    if (close) {
      resp.putHeader("connection", "close");
    }
    io.vertx.core.Future<Void> sent;
    if (HttpMethod.HEAD.equals(req.method())) {
      sent = resp.putHeader("content-length", String.valueOf(Buffer.buffer(body).length())).end();
    } else {
      sent = resp.end(body);
    }
    if (close) {
      sent.onComplete(v -> req.connection().close());
    }
    Timer.builder("autheth_http_request_seconds")
        .description("Inbound request latency by route and status")
        .tags("route", route, "status", String.valueOf(status))
        .publishPercentiles(0.5, 0.99)
        .register(registry)
        .record(clock.getAsLong() - start, TimeUnit.NANOSECONDS);
  }
}
