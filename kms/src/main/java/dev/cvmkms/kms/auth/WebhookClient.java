package dev.cvmkms.kms.auth;

import dev.cvmkms.kms.auth.WebhookException.Outcome;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one HTTP client the process uses to reach the auth webhook (the freeze fix: dstack built a
 * new client per call with no timeout). Every call is bounded by a total deadline; each attempt by
 * its own timeout, after which the stream is reset so the pooled connection is freed. GETs are
 * retried with full-jitter backoff (honouring Retry-After) but never past the deadline; decisions
 * (POST) are never retried. A circuit breaker makes calls fail fast while the webhook is down.
 *
 * <p>It is built on the core pooled {@code HttpClient} (the client a {@code WebClient} wraps)
 * because that lets an attempt be cancelled and a body be refused once it passes the size cap
 * without being buffered; {@code WebClient} can do neither. Non-blocking throughout: every
 * continuation is a callback or a Vert.x timer on the caller's context.
 */
public final class WebhookClient {
  private static final Logger log = LoggerFactory.getLogger(WebhookClient.class);

  /** Backoff grows from this base; each wait is uniform in [0, min(cap, base * 2^n)). */
  private static final long BACKOFF_BASE_MS = 100;

  private static final long BACKOFF_CAP_MS = 2_000;

  /** A retry is pointless if less than this is left of the deadline. */
  private static final long MIN_ATTEMPT_MS = 50;

  private static final int ERROR_EXCERPT_BYTES = 160;

  /** The three things the KMS asks the webhook; the tag is the {@code operation} label. */
  public enum Operation {
    INFO("info", null),
    APP("app", "bootAuth/app"),
    KMS("kms", "bootAuth/kms");

    private final String tag;
    private final String path;

    Operation(String tag, String path) {
      this.tag = tag;
      this.path = path;
    }

    public String tag() {
      return tag;
    }
  }

  private final Vertx vertx;
  private final WebhookSettings settings;
  private final HttpClientAgent http;
  private final CircuitBreaker breaker;
  private final String shownUrl;
  private final String infoUri;
  private final Map<Operation, String> postUris = new EnumMap<>(Operation.class);
  private final String basicAuth;
  private final String userAgent;
  private final MeterRegistry registry;
  private final Map<String, Timer> timers = new ConcurrentHashMap<>();
  private final Map<Operation, Counter> retries = new EnumMap<>(Operation.class);

  /**
   * Creates the pool. Call once per process and share the instance.
   *
   * @param version the KMS version for {@code User-Agent: cvm-kms/<version>}
   */
  public WebhookClient(
      Vertx vertx, WebhookSettings settings, MeterRegistry registry, String version) {
    this.vertx = vertx;
    this.settings = settings;
    this.registry = registry;
    this.userAgent = "cvm-kms/" + version;
    this.shownUrl = settings.redactedUrl();
    URI u = URI.create(settings.url());
    this.basicAuth = basicAuth(u.getRawUserInfo());
    this.infoUri = withoutUserInfo(u, u.getRawPath());
    String base = u.getRawPath() == null ? "" : u.getRawPath();
    String dir = base.endsWith("/") ? base : base + "/";
    postUris.put(Operation.APP, withoutUserInfo(u, dir + Operation.APP.path));
    postUris.put(Operation.KMS, withoutUserInfo(u, dir + Operation.KMS.path));

    HttpClientOptions options =
        new HttpClientOptions()
            .setProtocolVersion(HttpVersion.HTTP_1_1)
            .setKeepAlive(true)
            .setKeepAliveTimeout(30)
            .setConnectTimeout((int) settings.connectTimeout().toMillis())
            .setMaxRedirects(0);
    PoolOptions pool =
        new PoolOptions()
            .setHttp1MaxSize(settings.maxConnections())
            .setMaxWaitQueueSize(settings.maxConnections() * 32);
    this.http = vertx.createHttpClient(options, pool);
    this.breaker =
        new CircuitBreaker(
            settings.breakerFailures(), settings.breakerReset().toNanos(), System::nanoTime);

    Gauge.builder("kms.auth.webhook.breaker.state", breaker, b -> b.state().gauge)
        .description("Auth webhook circuit: 0 closed, 1 half-open, 2 open")
        .strongReference(true)
        .register(registry);
    for (Operation op : Operation.values()) {
      retries.put(
          op,
          Counter.builder("kms.auth.webhook.retries")
              .description("Auth webhook GET retries")
              .tag("operation", op.tag)
              .register(registry));
    }
  }

  /** {@code GET <url>}: deployment metadata, retried within the deadline. */
  public Future<AuthInfo> info() {
    return call(Operation.INFO, HttpMethod.GET, infoUri, null, WebhookJson::decodeInfo);
  }

  /** {@code POST <url>/bootAuth/app|kms} with the BootInfo; one attempt, never retried. */
  public Future<BootDecision> bootAuth(Operation op, BootInfo boot) {
    return bootAuth(op, WebhookJson.encode(boot));
  }

  Future<BootDecision> bootAuth(Operation op, byte[] body) {
    if (op == Operation.INFO) {
      throw new IllegalArgumentException("bootAuth needs APP or KMS");
    }
    return call(
        op, HttpMethod.POST, postUris.get(op), Buffer.buffer(body), WebhookJson::decodeDecision);
  }

  /** The webhook URL as it may be shown (no userinfo, no query). */
  public String shownUrl() {
    return shownUrl;
  }

  CircuitBreaker.State breakerState() {
    return breaker.state();
  }

  WebhookSettings settings() {
    return settings;
  }

  /** Closes the pool; in-flight calls fail. */
  public Future<Void> close() {
    return http.close();
  }

  @FunctionalInterface
  private interface Decoder<T> {
    T decode(byte[] body) throws WebhookJson.DecodeError;
  }

  private <T> Future<T> call(
      Operation op, HttpMethod method, String uri, Buffer body, Decoder<T> decoder) {
    long start = System.nanoTime();
    long deadlineAt = start + settings.deadline().toNanos();
    Promise<T> result = Promise.promise();
    // Run the whole call on one context so timers and responses never race across threads.
    Context ctx = vertx.getOrCreateContext();
    Runnable first = () -> attempt(op, method, uri, body, decoder, deadlineAt, 0, null, result);
    if (Vertx.currentContext() == ctx) {
      first.run();
    } else {
      ctx.runOnContext(v -> first.run());
    }
    return result
        .future()
        .andThen(
            ar -> {
              Outcome outcome =
                  ar.succeeded()
                      ? Outcome.OK
                      : ar.cause() instanceof WebhookException w ? w.outcome() : Outcome.ERROR;
              timer(op, outcome).record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
            });
  }

  private <T> void attempt(
      Operation op,
      HttpMethod method,
      String uri,
      Buffer body,
      Decoder<T> decoder,
      long deadlineAt,
      int attemptNo,
      WebhookException previous,
      Promise<T> result) {
    if (!breaker.tryAcquire()) {
      if (previous != null) {
        // The circuit opened during our own retries: report what actually went wrong.
        result.fail(withAttempts(previous, attemptNo));
        return;
      }
      result.fail(
          new WebhookException(
              Outcome.OPEN,
              "auth api circuit open: "
                  + shownUrl
                  + " failed "
                  + breaker.consecutiveFailures()
                  + " times in a row, next probe in "
                  + breaker.millisUntilProbe()
                  + " ms"));
      return;
    }
    long leftMs = TimeUnit.NANOSECONDS.toMillis(deadlineAt - System.nanoTime());
    long timeoutMs = Math.max(1, Math.min(settings.attemptTimeout().toMillis(), leftMs));
    HttpExchange.run(this, method, uri, body, timeoutMs)
        .onComplete(
            ar -> {
              WebhookException err;
              if (ar.succeeded()) {
                HttpExchange.Raw raw = ar.result();
                if (raw.status() / 100 == 2) {
                  observe(Outcome.OK);
                  try {
                    result.complete(decoder.decode(raw.body()));
                  } catch (WebhookJson.DecodeError e) {
                    result.fail(
                        new WebhookException(
                            Outcome.DECODE,
                            "failed to decode response from "
                                + shownUrl
                                + ", status="
                                + raw.status()
                                + ": "
                                + e.getMessage(),
                            raw.status(),
                            -1));
                  }
                  return;
                }
                err = statusError(raw);
              } else {
                err =
                    ar.cause() instanceof WebhookException w
                        ? w
                        : new WebhookException(Outcome.ERROR, "auth api " + shownUrl + " failed");
              }
              if (err.isLocal()) {
                breaker.onNeutral();
              } else {
                observe(err.outcome());
              }
              if (method == HttpMethod.GET
                  && err.outcome().retryable()
                  && attemptNo < settings.maxRetries()) {
                long waitMs =
                    err.retryAfterMillis() >= 0 ? err.retryAfterMillis() : fullJitter(attemptNo);
                long leftAfterWait =
                    TimeUnit.NANOSECONDS.toMillis(deadlineAt - System.nanoTime()) - waitMs;
                if (leftAfterWait >= MIN_ATTEMPT_MS) {
                  retries.get(op).increment();
                  log.debug(
                      "auth api {} attempt {} failed ({}), retrying in {} ms",
                      op.tag,
                      attemptNo + 1,
                      err.outcome().tag(),
                      waitMs);
                  vertx.setTimer(
                      Math.max(1, waitMs),
                      t ->
                          attempt(
                              op,
                              method,
                              uri,
                              body,
                              decoder,
                              deadlineAt,
                              attemptNo + 1,
                              err,
                              result));
                  return;
                }
              }
              result.fail(attemptNo == 0 ? err : withAttempts(err, attemptNo + 1));
            });
  }

  /** Feeds the breaker and logs its transitions. */
  private void observe(Outcome outcome) {
    CircuitBreaker.State before = breaker.state();
    if (outcome.tripsBreaker()) {
      breaker.onFailure();
    } else {
      breaker.onSuccess();
    }
    CircuitBreaker.State after = breaker.state();
    if (before != after) {
      if (after == CircuitBreaker.State.OPEN) {
        log.warn(
            "auth api {} circuit opened after {} consecutive failures; failing fast for {}",
            shownUrl,
            breaker.consecutiveFailures(),
            settings.breakerReset());
      } else if (after == CircuitBreaker.State.CLOSED) {
        log.info("auth api {} circuit closed: the webhook answers again", shownUrl);
      }
    }
  }

  private WebhookException statusError(HttpExchange.Raw raw) {
    int status = raw.status();
    Outcome outcome =
        status == 429
            ? Outcome.THROTTLED
            : status >= 500 ? Outcome.SERVER_ERROR : Outcome.CLIENT_ERROR;
    String excerpt = Excerpt.of(raw.body(), ERROR_EXCERPT_BYTES);
    String msg = "auth api " + shownUrl + " returned " + status;
    if (!excerpt.isEmpty()) {
      msg += ": " + excerpt;
    }
    return new WebhookException(outcome, msg, status, raw.retryAfterMillis());
  }

  private static WebhookException withAttempts(WebhookException e, int attempts) {
    if (attempts <= 1) {
      return e;
    }
    return e.withMessage(e.getMessage() + " (after " + attempts + " attempts)");
  }

  private static long fullJitter(int attemptNo) {
    long ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS << Math.min(attemptNo, 20));
    return ThreadLocalRandom.current().nextLong(ceiling + 1);
  }

  private Timer timer(Operation op, Outcome outcome) {
    return timers.computeIfAbsent(
        op.tag + "/" + outcome.tag(),
        k ->
            Timer.builder("kms.auth.webhook.calls")
                .description("Auth webhook calls, retries included, by operation and outcome")
                .tag("operation", op.tag)
                .tag("outcome", outcome.tag())
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(settings.deadline())
                .register(registry));
  }

  // Package-private accessors for HttpExchange.
  HttpClientAgent http() {
    return http;
  }

  Vertx vertx() {
    return vertx;
  }

  String shown() {
    return shownUrl;
  }

  RequestOptions requestOptions(HttpMethod method, String uri, long timeoutMs, boolean hasBody) {
    RequestOptions ro =
        new RequestOptions()
            .setMethod(method)
            .setAbsoluteURI(uri)
            .setConnectTimeout(Math.min(settings.connectTimeout().toMillis(), timeoutMs))
            .setFollowRedirects(false)
            .putHeader(HttpHeaders.USER_AGENT, userAgent);
    if (hasBody) {
      ro.putHeader(HttpHeaders.CONTENT_TYPE, "application/json");
    }
    if (basicAuth != null) {
      ro.putHeader(HttpHeaders.AUTHORIZATION, basicAuth);
    }
    return ro;
  }

  int maxResponseBytes() {
    return settings.maxResponseBytes();
  }

  private static String withoutUserInfo(URI u, String rawPath) {
    StringBuilder sb = new StringBuilder().append(u.getScheme()).append("://").append(u.getHost());
    if (u.getPort() >= 0) {
      sb.append(':').append(u.getPort());
    }
    sb.append(rawPath == null || rawPath.isEmpty() ? "/" : rawPath);
    if (u.getRawQuery() != null) {
      sb.append('?').append(u.getRawQuery());
    }
    return sb.toString();
  }

  /** reqwest sends URL userinfo as Basic auth; do the same so such URLs keep working. */
  private static String basicAuth(String rawUserInfo) {
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
