package dev.cvmkms.kms.auth;

import dev.cvmkms.kms.attestation.BootInfo;
import dev.cvmkms.kms.auth.WebhookException.Outcome;
import dev.cvmkms.kms.config.AuthApiConfig;
import dev.cvmkms.kms.config.OutboundClientConfig;
import dev.cvmkms.kms.upstream.Backoff;
import dev.cvmkms.kms.upstream.Breakers;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import java.time.Clock;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
import org.jspecify.annotations.Nullable;
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

  /** A retry is pointless if less than this is left of the deadline. */
  private static final long MIN_ATTEMPT_MS = 50;

  private static final int ERROR_EXCERPT_BYTES = 160;

  private static final int WAIT_QUEUE_PER_CONNECTION = 32;

  /** The three things the KMS asks the webhook; the tag is the {@code operation} label. */
  public enum Operation {
    INFO("info"),
    APP("app"),
    KMS("kms");

    private final String tag;

    Operation(String tag) {
      this.tag = tag;
    }

    public String tag() {
      return tag;
    }
  }

  private final Vertx vertx;
  private final OutboundClientConfig settings;
  private final WebhookTarget target;
  private final String shownUrl;
  private final HttpClientAgent http;
  private final CircuitBreaker breaker;
  private final WebhookMetrics metrics;
  private final Backoff backoff;

  /**
   * Creates the pool. Call once per process and share the instance.
   *
   * @param version the KMS version for {@code User-Agent: cvm-kms/<version>}
   */
  public WebhookClient(
      Vertx vertx, AuthApiConfig.Webhook webhook, MeterRegistry registry, String version) {
    this(
        vertx,
        webhook,
        registry,
        version,
        Clock.systemUTC(),
        () -> ThreadLocalRandom.current().nextDouble());
  }

  /** With the breaker's clock and the backoff's randomness injected (tests). */
  public WebhookClient(
      Vertx vertx,
      AuthApiConfig.Webhook webhook,
      MeterRegistry registry,
      String version,
      Clock clock,
      DoubleSupplier random) {
    this.vertx = vertx;
    this.settings = webhook.client();
    this.target = new WebhookTarget(webhook.url(), version);
    this.backoff = Backoff.standard(random);
    this.shownUrl = target.shownUrl();
    HttpClientOptions options =
        new HttpClientOptions()
            .setProtocolVersion(HttpVersion.HTTP_1_1)
            .setKeepAlive(true)
            .setKeepAliveTimeout(30)
            .setConnectTimeout((int) settings.connectTimeout().toMillis())
            .setMaxRedirects(0);
    // A bounded queue: under a flood, waiting callers are refused instead of piling up.
    PoolOptions pool =
        new PoolOptions()
            .setHttp1MaxSize(settings.maxConnections())
            .setMaxWaitQueueSize(settings.maxConnections() * WAIT_QUEUE_PER_CONNECTION);
    this.http = vertx.createHttpClient(options, pool);
    this.breaker =
        Breakers.create(
            "webhook", settings.breakerFailures(), settings.breakerReset(), clock, registry);
    this.metrics = new WebhookMetrics(registry, breaker);
    breaker
        .getEventPublisher()
        .onStateTransition(
            e -> {
              switch (e.getStateTransition().getToState()) {
                case OPEN ->
                    log.warn(
                        "auth api {} circuit opened after {} consecutive failures; failing fast"
                            + " for {}",
                        shownUrl,
                        settings.breakerFailures(),
                        settings.breakerReset());
                case CLOSED ->
                    log.info("auth api {} circuit closed: the webhook answers again", shownUrl);
                default -> log.debug("auth api {} circuit {}", shownUrl, e.getStateTransition());
              }
            });
  }

  /** {@code GET <url>}: deployment metadata, retried within the deadline. */
  public Future<AuthInfo> info() {
    return call(Operation.INFO, null, WebhookJson::decodeInfo);
  }

  /** {@code POST <url>/bootAuth/app|kms} with the BootInfo; one attempt, never retried. */
  public Future<BootDecision> bootAuth(Operation op, BootInfo boot) {
    return bootAuth(op, WebhookJson.encode(boot));
  }

  Future<BootDecision> bootAuth(Operation op, byte[] body) {
    if (op == Operation.INFO) {
      throw new IllegalArgumentException("bootAuth needs APP or KMS");
    }
    return call(op, Buffer.buffer(body), WebhookJson::decodeDecision);
  }

  /** The webhook URL as it may be shown (no userinfo, no query). */
  public String shownUrl() {
    return shownUrl;
  }

  CircuitBreaker.State breakerState() {
    return breaker.getState();
  }

  /** Closes the pool; in-flight calls fail. */
  public Future<Void> close() {
    return http.close();
  }

  @FunctionalInterface
  private interface Decoder<T> {
    T decode(byte[] body) throws WebhookJson.DecodeError;
  }

  private <T> Future<T> call(Operation op, @Nullable Buffer body, Decoder<T> decoder) {
    long start = System.nanoTime();
    long deadlineAt = start + settings.deadline().toNanos();
    Promise<T> result = Promise.promise();
    // Run the whole call on one context so timers and responses never race across threads.
    Context ctx = vertx.getOrCreateContext();
    Runnable first = () -> attempt(op, body, decoder, deadlineAt, 0, null, result);
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
              metrics.call(op, outcome, System.nanoTime() - start);
            });
  }

  private <T> void attempt(
      Operation op,
      @Nullable Buffer body,
      Decoder<T> decoder,
      long deadlineAt,
      int attemptNo,
      @Nullable WebhookException previous,
      Promise<T> result) {
    if (!breaker.tryAcquirePermission()) {
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
                  + settings.breakerFailures()
                  + " times in a row, next probe within "
                  + settings.breakerReset().toMillis()
                  + " ms"));
      return;
    }
    long leftMs = TimeUnit.NANOSECONDS.toMillis(deadlineAt - System.nanoTime());
    long timeoutMs = Math.max(1, Math.min(settings.attemptTimeout().toMillis(), leftMs));
    boolean cutByDeadline = timeoutMs < settings.attemptTimeout().toMillis();
    long connectMs = Math.min(settings.connectTimeout().toMillis(), timeoutMs);
    long sentAt = System.nanoTime();
    HttpExchange.run(
            vertx,
            http,
            target.request(op, connectMs),
            body,
            shownUrl,
            Math.toIntExact(settings.maxResponseBytes()),
            timeoutMs)
        .onComplete(
            ar -> {
              if (ar.succeeded() && ar.result().status() / 100 == 2) {
                observe(Outcome.OK, sentAt);
                decodeInto(ar.result(), decoder, result);
                return;
              }
              WebhookException err =
                  ar.succeeded() ? statusError(ar.result()) : asWebhookError(ar.cause());
              if (err.isLocal() || (err.outcome() == Outcome.TIMEOUT && cutByDeadline)) {
                // Our refusal, or our deadline ran out: nothing learned about the webhook.
                breaker.releasePermission();
              } else {
                observe(err.outcome(), sentAt);
              }
              long waitMs = retryDelay(op, err, attemptNo, deadlineAt);
              if (waitMs < 0) {
                result.fail(withAttempts(err, attemptNo + 1));
                return;
              }
              metrics.retry(op);
              log.debug(
                  "auth api {} attempt {} failed ({}), retrying in {} ms",
                  op.tag,
                  attemptNo + 1,
                  err.outcome().tag(),
                  waitMs);
              vertx.setTimer(
                  Math.max(1, waitMs),
                  t -> attempt(op, body, decoder, deadlineAt, attemptNo + 1, err, result));
            });
  }

  /**
   * How long to wait before retrying, or -1 for no retry. Only the idempotent GET is retried (a
   * decision is asked exactly once), only for outcomes where the webhook may recover, at most
   * maxRetries times, and never if the wait would leave too little of the deadline.
   */
  private long retryDelay(Operation op, WebhookException err, int attemptNo, long deadlineAt) {
    if (op != Operation.INFO || !err.outcome().retryable() || attemptNo >= settings.maxRetries()) {
      return -1;
    }
    long retryAfterNanos = err.retryAfterMillis() >= 0 ? err.retryAfterMillis() * 1_000_000 : -1;
    long waitMs = backoff.delayNanos(attemptNo, retryAfterNanos) / 1_000_000;
    long leftAfterWait = TimeUnit.NANOSECONDS.toMillis(deadlineAt - System.nanoTime()) - waitMs;
    return leftAfterWait >= MIN_ATTEMPT_MS ? waitMs : -1;
  }

  private <T> void decodeInto(HttpExchange.Raw raw, Decoder<T> decoder, Promise<T> result) {
    try {
      result.complete(decoder.decode(raw.body()));
    } catch (WebhookJson.DecodeError e) {
      String msg =
          "failed to decode response from "
              + shownUrl
              + ", status="
              + raw.status()
              + ": "
              + e.getMessage();
      result.fail(new WebhookException(Outcome.DECODE, msg, raw.status(), -1));
    }
  }

  private WebhookException asWebhookError(Throwable t) {
    return t instanceof WebhookException w
        ? w
        : new WebhookException(Outcome.ERROR, "auth api " + shownUrl + " failed");
  }

  /** Feeds the breaker (its transitions are logged by the listener above). */
  private void observe(Outcome outcome, long sentAt) {
    long took = System.nanoTime() - sentAt;
    if (outcome.tripsBreaker()) {
      breaker.onError(took, TimeUnit.NANOSECONDS, new IllegalStateException(outcome.tag()));
    } else {
      breaker.onSuccess(took, TimeUnit.NANOSECONDS);
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
}
