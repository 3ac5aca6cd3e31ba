package dev.cvmkms.kms.rpc;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.cvmkms.kms.KmsException;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves a list of {@link PrpcMethod}s at {@code /prpc/:method} (GET and POST), exactly as dstack's
 * pRPC edge does (spec kms-protocol §2):
 *
 * <ul>
 *   <li>The service prefix (e.g. {@code "KMS."}) is trimmed repeatedly, so {@code GetMeta}, {@code
 *       KMS.GetMeta} and {@code KMS.KMS.GetMeta} are one method; other names get 400 {@code Service
 *       not found: <name>}.
 *   <li>JSON mode when the method is GET, the query has {@code json} equal to "", "1" or "true", or
 *       the Content-Type is {@code application/json}; protobuf binary otherwise. The response uses
 *       the same mode.
 *   <li>GET requests decode the query string ({@link PrpcJson#decodeQuery}); Empty-input methods
 *       ignore the payload.
 *   <li>Bodies above the method's limit are refused from Content-Length, or as soon as a streamed
 *       body passes it, with 400 {@code payload too large}; nothing larger is buffered.
 *   <li>Errors before dispatch (payload too large, undecodable request) choose JSON only from the
 *       GET/{@code ?json} flag, not from Content-Type (dstack's quirk, §2.4).
 *   <li>Handlers run on the event loop; their failures go through {@link PrpcErrors}.
 * </ul>
 *
 * Mount before any asynchronous handler on the same route (or pause the request), since the body is
 * read here as a stream; {@code Expect: 100-continue} is answered here only when the declared size
 * fits, so leave {@code HttpServerOptions.handle100ContinueAutomatically} off. Every request is
 * counted in the {@link MeterRegistry} (see {@link PrpcMetrics}) and logged at DEBUG with method,
 * status and duration, never bodies.
 */
public final class PrpcRoutes {
  private static final Logger LOG = LoggerFactory.getLogger(PrpcRoutes.class);
  private static final String PAYLOAD_TOO_LARGE = "payload too large";

  private final String servicePrefix;
  private final Map<String, PrpcMethod<?, ?>> methods;
  private final PrpcMetrics metrics;
  private final @Nullable String versionHeader;
  private final @Nullable Limit limit; // null: unlimited
  private Set<String> signedMethods = Set.of();
  private @Nullable ResponseSigner signer;

  /** The rate limiter and how its clients are told apart. */
  private record Limit(RateLimiter limiter, ClientKey clientKey) {}

  /**
   * @param servicePrefix the prefix trimmed from method names: {@code "KMS."}, {@code "Onboard."}
   *     or {@code "Admin."}; an empty prefix trims nothing
   * @param methods the methods served; names must be unique
   * @param registry where the request meters go
   * @param appVersion sent as {@code X-App-Version: v<appVersion>} on every response; null for none
   */
  public PrpcRoutes(
      String servicePrefix,
      List<? extends PrpcMethod<?, ?>> methods,
      MeterRegistry registry,
      @Nullable String appVersion) {
    this(servicePrefix, methods, registry, appVersion, null);
  }

  /**
   * As {@link #PrpcRoutes(String, List, MeterRegistry, String)}, with every request first taking a
   * token from {@code limiter} for its client ({@link ClientKey}); without one it gets 429 with
   * {@code Retry-After} (whole seconds until a token) and the pRPC error body, and is counted in
   * {@code kms.rpc.rate_limited{method}}.
   *
   * @param limiter null for no limit
   */
  public PrpcRoutes(
      String servicePrefix,
      List<? extends PrpcMethod<?, ?>> methods,
      MeterRegistry registry,
      @Nullable String appVersion,
      @Nullable RateLimiter limiter) {
    this.limit = limiter == null ? null : new Limit(limiter, new ClientKey(limiter.config()));
    this.servicePrefix = Objects.requireNonNull(servicePrefix, "servicePrefix");
    Map<String, PrpcMethod<?, ?>> byName = new LinkedHashMap<>();
    for (PrpcMethod<?, ?> method : methods) {
      if (byName.put(method.name(), method) != null) {
        throw new IllegalArgumentException("duplicate pRPC method " + method.name());
      }
    }
    this.methods = Collections.unmodifiableMap(byName);
    this.metrics = new PrpcMetrics(Objects.requireNonNull(registry, "registry"), byName.keySet());
    this.versionHeader = appVersion == null ? null : "v" + appVersion;
  }

  /**
   * Signs the successful responses of {@code methods} with {@code signer} (headers added to the 200
   * response; errors stay unsigned). Call before {@link #mount}.
   */
  public PrpcRoutes signResponses(Set<String> methods, ResponseSigner signer) {
    for (String m : methods) {
      if (!this.methods.containsKey(m)) {
        throw new IllegalArgumentException("cannot sign unknown pRPC method " + m);
      }
    }
    this.signedMethods = Set.copyOf(methods);
    this.signer = Objects.requireNonNull(signer, "signer");
    return this;
  }

  /** Adds {@code GET} and {@code POST /prpc/:method} to {@code router}. */
  public void mount(Router router) {
    router.route(HttpMethod.POST, "/prpc/:method").handler(this::handle);
    router.route(HttpMethod.GET, "/prpc/:method").handler(this::handle);
  }

  /**
   * Loads the protobuf descriptors and codec paths of every message in the methods' proto files.
   * Call once before listening: their class initialisation takes hundreds of milliseconds on a cold
   * JVM and would otherwise run on the event loop inside the first request.
   */
  @SuppressWarnings("IgnoredPureGetter") // toByteArray runs only to load the binary codec's classes
  public void warmUp() {
    Set<com.google.protobuf.Descriptors.FileDescriptor> files = new java.util.HashSet<>();
    for (PrpcMethod<?, ?> method : methods.values()) {
      files.add(method.requestDefault().getDescriptorForType().getFile());
      PrpcJson.decode(PrpcJson.encode(method.requestDefault()), method.requestDefault());
    }
    for (var file : files) {
      for (var type : file.getMessageTypes()) {
        var message = com.google.protobuf.DynamicMessage.getDefaultInstance(type);
        PrpcJson.encode(message);
        message.toByteArray();
      }
    }
  }

  /** The served method names, bare, in registration order (for the start-up log). */
  public Set<String> methodNames() {
    return methods.keySet();
  }

  /** The method name with the service prefix trimmed as often as it occurs. */
  String trimPrefix(String name) {
    if (servicePrefix.isEmpty()) {
      return name;
    }
    String trimmed = name;
    while (trimmed.startsWith(servicePrefix)) {
      trimmed = trimmed.substring(servicePrefix.length());
    }
    return trimmed;
  }

  private void handle(RoutingContext ctx) {
    HttpServerRequest request = ctx.request();
    String name = trimPrefix(Objects.requireNonNullElse(ctx.pathParam("method"), ""));
    boolean get = HttpMethod.GET.equals(request.method());
    boolean queryJson = get || jsonFlag(request.query());
    Exchange exchange = new Exchange(ctx, name, queryJson || isJson(request));
    if (versionHeader != null) {
      ctx.response().putHeader("X-App-Version", versionHeader);
    }
    Limit limit = this.limit;
    if (limit != null) {
      java.time.Duration wait = limit.limiter().tryAcquire(name, limit.clientKey().idOf(request));
      if (!wait.isZero()) {
        PrpcMethod<?, ?> known = methods.get(name);
        exchange.rateLimited(wait, known == null ? 0 : known.bodyLimit());
        return;
      }
    }
    PrpcMethod<?, ?> method = methods.get(name);
    if (method == null) {
      exchange.fail(exchange.json, "Service not found: " + name);
      return;
    }
    String contentLength = request.getHeader(HttpHeaders.CONTENT_LENGTH);
    if (contentLength != null && !withinLimit(contentLength, method.bodyLimit())) {
      exchange.fail(queryJson, PAYLOAD_TOO_LARGE);
      return;
    }
    if (request.isEnded()) { // someone before us consumed the body; there is nothing to read
      dispatch(exchange, method, Buffer.buffer(), queryJson);
      return;
    }
    Buffer body = Buffer.buffer();
    request.handler(
        chunk -> {
          if (exchange.done) {
            return; // already answered: discard the rest
          }
          if (body.length() + (long) chunk.length() > method.bodyLimit()) {
            exchange.fail(queryJson, PAYLOAD_TOO_LARGE);
            return;
          }
          body.appendBuffer(chunk);
        });
    request.endHandler(
        v -> {
          if (!exchange.done) {
            dispatch(exchange, method, body, queryJson);
          }
        });
    request.exceptionHandler(
        e -> {
          if (!exchange.done) {
            exchange.done = true;
            LOG.debug("prpc {}: request stream failed: {}", exchange.logName(), e.toString());
          }
        });
    if ("100-continue".equalsIgnoreCase(request.getHeader(HttpHeaders.EXPECT))) {
      ctx.response().writeContinue();
    }
    request.resume();
  }

  private void dispatch(
      Exchange exchange, PrpcMethod<?, ?> method, Buffer body, boolean queryJson) {
    HttpServerRequest request = exchange.ctx.request();
    Message decoded;
    try {
      decoded = decode(method, request, body, exchange.json);
    } catch (KmsException e) {
      exchange.fail(queryJson, e.publicMessage());
      return;
    } catch (InvalidProtocolBufferException e) {
      // protobuf-java's text is advice about truncation and embedded lengths; keep it simple.
      exchange.fail(
          queryJson,
          "invalid protobuf request: not a valid "
              + method.requestDefault().getDescriptorForType().getName()
              + " message");
      return;
    } catch (RuntimeException e) { // a codec bug, not the caller's fault
      LOG.error("prpc {}: decoding the request failed", exchange.logName(), e);
      exchange.fail(queryJson, PrpcErrors.INTERNAL_MESSAGE);
      return;
    }
    Future<? extends Message> result;
    try {
      result = method.invoke(Caller.of(request), decoded);
      Objects.requireNonNull(result, "handler returned a null Future");
    } catch (Exception e) { // includes checked exceptions thrown sneakily
      handlerFailed(exchange, e);
      return;
    }
    Context context = Vertx.currentContext();
    result.onComplete(
        ar -> {
          if (context == null || Vertx.currentContext() == context) {
            complete(exchange, ar);
          } else {
            context.runOnContext(v -> complete(exchange, ar));
          }
        });
  }

  private static Message decode(
      PrpcMethod<?, ?> method, HttpServerRequest request, Buffer body, boolean json)
      throws InvalidProtocolBufferException {
    Message defaults = method.requestDefault();
    if (method.ignoresPayload()) {
      return defaults;
    }
    if (HttpMethod.GET.equals(request.method())) {
      return PrpcJson.decodeQuery(request.query(), defaults);
    }
    if (json) {
      return PrpcJson.decode(body.getBytes(), defaults);
    }
    return defaults.getParserForType().parseFrom(body.getBytes());
  }

  private void complete(Exchange exchange, AsyncResult<? extends Message> ar) {
    if (ar.failed()) {
      handlerFailed(exchange, ar.cause());
      return;
    }
    byte[] payload;
    try {
      Message response = Objects.requireNonNull(ar.result(), "handler completed with null");
      payload = exchange.json ? PrpcJson.encode(response) : response.toByteArray();
    } catch (RuntimeException e) {
      handlerFailed(exchange, e);
      return;
    }
    ResponseSigner signer = this.signer;
    if (signer == null || !signedMethods.contains(exchange.method)) {
      exchange.succeed(payload, Map.of());
      return;
    }
    Future<Map<String, String>> headers;
    try {
      headers = Objects.requireNonNull(signer.sign(exchange.method, payload), "signer");
    } catch (RuntimeException e) {
      handlerFailed(exchange, e);
      return;
    }
    if (headers.isComplete()) { // the cached path: no hop
      signed(exchange, payload, headers);
      return;
    }
    Context context = Vertx.currentContext();
    headers.onComplete(
        signedAr -> {
          if (context == null || Vertx.currentContext() == context) {
            signed(exchange, payload, signedAr);
          } else {
            context.runOnContext(v -> signed(exchange, payload, signedAr));
          }
        });
  }

  private void signed(Exchange exchange, byte[] payload, AsyncResult<Map<String, String>> ar) {
    if (ar.failed()) {
      handlerFailed(exchange, ar.cause());
      return;
    }
    exchange.succeed(payload, ar.result());
  }

  private void handlerFailed(Exchange exchange, Throwable error) {
    KmsException kms = PrpcErrors.asKmsException(error);
    if (kms == null || kms.kind() == KmsException.Kind.INTERNAL) {
      LOG.error("prpc {} failed", exchange.logName(), error);
    } else {
      LOG.warn(
          "prpc {} failed: {}: {}{}",
          exchange.logName(),
          kms.kind(),
          kms.getMessage(),
          kms.getCause() == null ? "" : " (cause: " + kms.getCause() + ")");
    }
    exchange.fail(exchange.json, PrpcErrors.publicMessage(error));
  }

  /** True when the query has {@code json} with value "", "1" or "true" ({@code ?json}, ...). */
  static boolean jsonFlag(@Nullable String rawQuery) {
    if (rawQuery == null || rawQuery.isEmpty()) {
      return false;
    }
    for (String pair : rawQuery.split("&", -1)) { // an empty pair is no "json" key: skipped
      int eq = pair.indexOf('=');
      String key = decodeOrNull(eq < 0 ? pair : pair.substring(0, eq));
      if (!"json".equals(key)) {
        continue;
      }
      String value = eq < 0 ? "" : decodeOrNull(pair.substring(eq + 1));
      return "".equals(value) || "1".equals(value) || "true".equals(value);
    }
    return false;
  }

  private static @Nullable String decodeOrNull(String s) {
    try {
      return URLDecoder.decode(s, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static boolean isJson(HttpServerRequest request) {
    String type = request.getHeader(HttpHeaders.CONTENT_TYPE);
    if (type == null) {
      return false;
    }
    int semicolon = type.indexOf(';');
    String mediaType = (semicolon < 0 ? type : type.substring(0, semicolon)).trim();
    return mediaType.toLowerCase(Locale.ROOT).equals("application/json");
  }

  private static boolean withinLimit(String contentLength, long limit) {
    try {
      return Long.parseLong(contentLength.trim()) <= limit;
    } catch (NumberFormatException e) {
      return false; // HTTP codecs reject these first; refuse rather than guess
    }
  }

  /** One request's state: answered at most once, metered and logged when answered. */
  private final class Exchange {
    final RoutingContext ctx;
    final String method;
    final boolean json;
    final long startNanos = System.nanoTime();
    boolean done;

    Exchange(RoutingContext ctx, String method, boolean json) {
      this.ctx = ctx;
      this.method = method;
      this.json = json;
    }

    void succeed(byte[] payload, Map<String, String> headers) {
      if (done) {
        return; // the request stream failed meanwhile; nobody is listening
      }
      HttpServerResponse response = ctx.response();
      headers.forEach(response::putHeader);
      response
          .setStatusCode(200)
          .putHeader(
              HttpHeaders.CONTENT_TYPE, json ? PrpcContentTypes.JSON : PrpcContentTypes.PROTOBUF);
      finish(200, null);
      response.end(Buffer.buffer(payload));
    }

    void fail(boolean jsonBody, String message) {
      if (done) {
        return;
      }
      HttpServerRequest request = ctx.request();
      // If the body is not (fully) read, discard what still arrives, and on HTTP/1.x close the
      // connection after this response rather than drain an arbitrarily large upload.
      boolean close = !request.isEnded() && request.version() != HttpVersion.HTTP_2;
      if (!request.isEnded()) {
        request.handler(chunk -> {});
        request.resume();
      }
      if (close) {
        ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
      }
      finish(PrpcErrors.STATUS, message);
      Future<Void> sent = PrpcErrors.send(ctx.response(), jsonBody, message);
      if (close) {
        sent.onComplete(v -> request.connection().close());
      }
    }

    /**
     * 429 with Retry-After. A body that fits the method's limit is read and dropped so the
     * connection stays usable (a new TLS handshake per refused request would cost more than the
     * request); anything else closes the connection after the answer.
     */
    void rateLimited(java.time.Duration wait, long bodyLimit) {
      HttpServerRequest request = ctx.request();
      long seconds = Math.max(1, (wait.toNanos() + 999_999_999L) / 1_000_000_000L);
      String length = request.getHeader(HttpHeaders.CONTENT_LENGTH);
      boolean drain =
          request.isEnded()
              || request.version() == HttpVersion.HTTP_2
              || (length != null && withinLimit(length, bodyLimit))
              || (length == null && request.getHeader(HttpHeaders.TRANSFER_ENCODING) == null);
      metrics.rateLimited(method);
      done = true;
      long nanos = System.nanoTime() - startNanos;
      metrics.record(method, PrpcErrors.TOO_MANY_REQUESTS, nanos);
      if (!request.isEnded()) {
        request.handler(chunk -> {});
        request.resume();
      }
      HttpServerResponse response = ctx.response();
      response.putHeader(HttpHeaders.RETRY_AFTER, Long.toString(seconds));
      if (!drain) {
        response.putHeader(HttpHeaders.CONNECTION, "close");
      }
      Future<Void> sent =
          PrpcErrors.send(
              response,
              PrpcErrors.TOO_MANY_REQUESTS,
              json,
              "rate limit exceeded, retry after " + seconds + " s");
      if (!drain) {
        sent.onComplete(v -> request.connection().close());
      }
    }

    private void finish(int status, @Nullable String error) {
      done = true;
      long nanos = System.nanoTime() - startNanos;
      metrics.record(method, status, nanos);
      if (LOG.isDebugEnabled()) {
        LOG.debug(
            "prpc {} {} {} in {} ms{}",
            ctx.request().method(),
            logName(),
            status,
            nanos / 1_000_000,
            error == null ? "" : ": " + error);
      }
    }

    /** The method name made safe for a log line (it comes from the URL). */
    String logName() {
      String shown = method.length() > 64 ? method.substring(0, 64) + "..." : method;
      StringBuilder safe = new StringBuilder(shown.length());
      shown.codePoints().forEach(c -> safe.appendCodePoint(Character.isISOControl(c) ? '?' : c));
      return methods.containsKey(method) ? method : "unknown method '" + safe + "'";
    }
  }
}
