package dev.cvmkms.autheth.chain;

import dev.cvmkms.autheth.chain.RpcException.Kind;
import dev.cvmkms.autheth.config.RpcEndpoint;
import dev.cvmkms.autheth.config.RpcSettings;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.DoubleSupplier;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one JSON-RPC client of the process. Every call passes, in order: the inbound deadline, the
 * provider's last {@code Retry-After}, the circuit breaker (Resilience4j) and the outbound token
 * bucket (bucket4j); then one HTTP exchange with its own hard timeout (the request is reset when it
 * fires). Retryable failures are retried with full-jitter backoff while the deadline allows.
 *
 * <p>Only the provider's own failures move the breaker. A call we refuse ourselves (breaker open,
 * no token in time, deadline spent, an attempt whose timeout was cut short by the deadline) is
 * neutral: overload must not turn into an outage. A call waits for a token at most once, and only
 * if that token comes soon enough to leave room for the attempt; otherwise it fails at once with
 * the throttled error ({@link Kind#RATE_LIMITED}) instead of queueing.
 */
public final class RpcClient implements JsonRpc, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RpcClient.class);

  private final Vertx vertx;
  private final HttpClient http;
  private final RpcEndpoint endpoint;
  private final RpcSettings settings;

  /** An attempt with less time than this left is not started. */
  static final long MIN_ATTEMPT_NANOS = 50_000_000L;

  private final OutboundBudget bucket;
  private final CircuitBreaker breaker;
  private final RpcMetrics metrics;
  private final Backoff backoff;
  private final LongSupplier clock;
  private final AtomicLong ids = new AtomicLong();
  private final AtomicLong notBefore;

  public RpcClient(
      Vertx vertx,
      RpcEndpoint endpoint,
      RpcSettings settings,
      OutboundBudget bucket,
      CircuitBreaker breaker,
      RpcMetrics metrics,
      LongSupplier clock,
      DoubleSupplier random) {
    this.vertx = vertx;
    this.endpoint = endpoint;
    this.settings = settings;
    this.bucket = bucket;
    this.breaker = breaker;
    this.metrics = metrics;
    this.clock = clock;
    this.notBefore = new AtomicLong(clock.getAsLong());
    this.backoff = new Backoff(settings.backoffBase(), settings.backoffMax(), random);
    HttpClientOptions options =
        new HttpClientOptions()
            .setConnectTimeout((int) settings.connectTimeout().toMillis())
            .setKeepAlive(true)
            .setKeepAliveTimeout(30)
            .setVerifyHost(true)
            .setTrustAll(false);
    PoolOptions pool =
        new PoolOptions()
            .setHttp1MaxSize(settings.poolSize())
            .setMaxWaitQueueSize(settings.poolQueue());
    this.http = vertx.createHttpClient(options, pool);
  }

  @Override
  public Future<Object> call(String method, JsonArray params, Deadline deadline) {
    Promise<Object> result = Promise.promise();
    attempt(method, params, deadline, 0, null, result);
    return result.future();
  }

  private void attempt(
      String method,
      JsonArray params,
      Deadline deadline,
      int retry,
      @Nullable RpcException last,
      Promise<Object> result) {
    long remaining = deadline.remainingNanos();
    if (remaining <= 0) {
      reject(method, result, last, new RpcException(Kind.DEADLINE, "deadline exceeded"));
      return;
    }
    long coolDown = notBefore.get() - clock.getAsLong();
    if (coolDown > 0) {
      if (coolDown >= remaining) {
        reject(
            method,
            result,
            last,
            new RpcException(Kind.THROTTLED, "provider asked to retry after the deadline"));
      } else {
        later(coolDown, () -> attempt(method, params, deadline, retry, last, result));
      }
      return;
    }
    if (!breaker.tryAcquirePermission()) {
      reject(method, result, last, new RpcException(Kind.CIRCUIT_OPEN, "circuit breaker open"));
      return;
    }
    withToken(method, params, deadline, retry, last, result, false);
  }

  /** Takes a token (holding the breaker's permission), waiting for it at most once. */
  private void withToken(
      String method,
      JsonArray params,
      Deadline deadline,
      int retry,
      @Nullable RpcException last,
      Promise<Object> result,
      boolean waited) {
    long wait = bucket.tryTake();
    if (wait == 0) {
      send(method, params, deadline, retry, result);
      return;
    }
    if (waited || wait + MIN_ATTEMPT_NANOS > deadline.remainingNanos()) {
      breaker.releasePermission(); // our own budget, not the provider's health
      reject(
          method, result, last, new RpcException(Kind.RATE_LIMITED, "outbound rate limit reached"));
      return;
    }
    later(wait, () -> withToken(method, params, deadline, retry, last, result, true));
  }

  /** Sends one attempt; the caller holds the breaker's permission and a token. */
  private void send(
      String method, JsonArray params, Deadline deadline, int retry, Promise<Object> result) {
    long remaining = deadline.remainingNanos();
    if (remaining < MIN_ATTEMPT_NANOS) {
      breaker.releasePermission();
      reject(method, result, new RpcException(Kind.DEADLINE, "deadline exceeded"));
      return;
    }
    long start = clock.getAsLong();
    long full = settings.attemptTimeout().toNanos();
    long timeout = Math.min(full, remaining);
    boolean cutByDeadline = timeout < full;
    exchange(method, params, timeout)
        .onComplete(
            ar -> {
              long took = clock.getAsLong() - start;
              if (ar.succeeded()) {
                breaker.onSuccess(took, TimeUnit.NANOSECONDS);
                metrics.attempt(method, "ok", took);
                result.complete(ar.result());
                return;
              }
              RpcException e = asRpc(ar.cause());
              metrics.attempt(method, e.kind().label(), took);
              if (e.kind() == Kind.REVERTED || e.kind() == Kind.RPC_ERROR) {
                // the provider works; the call itself was refused
                breaker.onSuccess(took, TimeUnit.NANOSECONDS);
                result.fail(e);
                return;
              }
              if (e.kind() == Kind.TIMEOUT && cutByDeadline) {
                breaker.releasePermission(); // our deadline ran out, not the provider's patience
              } else {
                breaker.onError(took, TimeUnit.NANOSECONDS, e);
              }
              if (e.retryAfterNanos() > 0) {
                long until = clock.getAsLong() + e.retryAfterNanos();
                notBefore.accumulateAndGet(until, Math::max);
              }
              log.debug("rpc {} attempt {} failed: {}", method, retry + 1, e.kind().label());
              if (e.kind().retryable() && retry < settings.maxRetries()) {
                long delay = backoff.delayNanos(retry, e.retryAfterNanos());
                if (delay + MIN_ATTEMPT_NANOS < deadline.remainingNanos()) {
                  later(delay, () -> attempt(method, params, deadline, retry + 1, e, result));
                  return;
                }
              }
              result.fail(e);
            });
  }

  /** One HTTP exchange, failed with RpcException on any problem; never outlives timeoutNanos. */
  private Future<Object> exchange(String method, JsonArray params, long timeoutNanos) {
    long timeoutMs = Math.max(1, timeoutNanos / 1_000_000);
    Buffer body =
        new JsonObject()
            .put("jsonrpc", "2.0")
            .put("id", ids.incrementAndGet())
            .put("method", method)
            .put("params", params)
            .toBuffer();
    RequestOptions options =
        new RequestOptions()
            .setMethod(HttpMethod.POST)
            .setAbsoluteURI(endpoint.requestUrl())
            .setConnectTimeout(Math.min(settings.connectTimeout().toMillis(), timeoutMs))
            .setIdleTimeout(timeoutMs)
            .putHeader("content-type", "application/json")
            .putHeader("accept", "application/json");
    endpoint.keyHeaderValue().ifPresent(k -> options.putHeader(endpoint.apiKeyHeader(), k));

    Promise<Object> p = Promise.promise();
    AtomicReference<HttpClientRequest> requestRef = new AtomicReference<>();
    long timer =
        vertx.setTimer(
            timeoutMs,
            t -> {
              if (p.tryFail(
                  new RpcException(Kind.TIMEOUT, "no response within " + timeoutMs + " ms"))) {
                HttpClientRequest r = requestRef.get();
                if (r != null) {
                  r.reset();
                }
              }
            });
    Future<HttpClientRequest> request;
    try {
      request = http.request(options);
    } catch (RuntimeException e) { // e.g. the client was closed during shutdown
      request = Future.failedFuture(e);
    }
    request.onComplete(
        ar -> {
          if (ar.failed()) {
            p.tryFail(transportFailure(ar.cause()));
            return;
          }
          HttpClientRequest req = ar.result();
          requestRef.set(req);
          if (p.future().isComplete()) {
            req.reset();
            return;
          }
          req.send(body)
              .onComplete(
                  rr -> {
                    if (rr.failed()) {
                      p.tryFail(transportFailure(rr.cause()));
                      return;
                    }
                    var resp = rr.result();
                    Buffer acc = Buffer.buffer();
                    resp.exceptionHandler(x -> p.tryFail(transportFailure(x)));
                    resp.handler(
                        chunk -> {
                          if (acc.length() + chunk.length() > settings.maxResponseBytes()) {
                            if (p.tryFail(
                                new RpcException(Kind.BAD_RESPONSE, "response too large"))) {
                              req.reset();
                            }
                          } else {
                            acc.appendBuffer(chunk);
                          }
                        });
                    resp.endHandler(
                        v -> {
                          if (!p.future().isComplete()) {
                            try {
                              p.tryComplete(interpret(resp.statusCode(), resp.headers(), acc));
                            } catch (RpcException e) {
                              p.tryFail(e);
                            }
                          }
                        });
                  });
        });
    return p.future().andThen(x -> vertx.cancelTimer(timer));
  }

  private Object interpret(int status, MultiMap headers, Buffer body) {
    if (status == 429) {
      throw new RpcException(Kind.THROTTLED, "HTTP 429", retryAfter(headers.get("retry-after")));
    }
    if (status >= 500) {
      throw new RpcException(Kind.SERVER_ERROR, "HTTP " + status);
    }
    if (status != 200) {
      throw new RpcException(Kind.BAD_RESPONSE, "HTTP " + status);
    }
    JsonObject json;
    try {
      json = new JsonObject(body);
    } catch (DecodeException | ClassCastException e) {
      throw new RpcException(Kind.BAD_RESPONSE, "response is not a JSON-RPC object");
    }
    JsonObject error = json.getValue("error") instanceof JsonObject o ? o : null;
    if (error != null) {
      long code = error.getValue("code") instanceof Number n ? n.longValue() : 0;
      String message = String.valueOf(error.getValue("message")).toLowerCase(Locale.ROOT);
      if (code == 3 || message.contains("revert")) {
        throw new RpcException(Kind.REVERTED, "execution reverted");
      }
      if (code == -32005 || code == 429 || message.contains("rate") || message.contains("limit")) {
        throw new RpcException(Kind.THROTTLED, "JSON-RPC rate limit error " + code);
      }
      throw new RpcException(Kind.RPC_ERROR, "JSON-RPC error " + code);
    }
    if (!json.containsKey("result")) {
      throw new RpcException(Kind.BAD_RESPONSE, "JSON-RPC response without result");
    }
    return json.getValue("result");
  }

  /** The shared Retry-After parser, capped at {@code max_retry_after}; -1 when absent. */
  long retryAfter(String value) {
    long nanos = RetryAfter.nanos(value, java.time.Clock.systemUTC());
    return nanos < 0 ? -1 : Math.min(nanos, settings.maxRetryAfter().toNanos());
  }

  /** Only the exception type is kept: transport messages can contain the request URI. */
  private static RpcException transportFailure(Throwable t) {
    if (t instanceof RpcException e) {
      return e;
    }
    String type = t.getClass().getSimpleName();
    if (t instanceof TimeoutException || type.contains("Timeout")) {
      return new RpcException(Kind.TIMEOUT, "timed out (" + type + ")");
    }
    return new RpcException(Kind.CONNECTION, "connection failed (" + type + ")");
  }

  private static RpcException asRpc(Throwable t) {
    return t instanceof RpcException e ? e : transportFailure(t);
  }

  private void reject(String method, Promise<Object> result, RpcException e) {
    reject(method, result, null, e);
  }

  /** A retry refused locally reports the upstream failure that caused it ({@code last}). */
  private void reject(
      String method, Promise<Object> result, @Nullable RpcException last, RpcException e) {
    metrics.rejected(method, e.kind().label());
    result.fail(last != null ? last : e);
  }

  private void later(long nanos, Runnable r) {
    vertx.setTimer(Math.max(1, nanos / 1_000_000), t -> r.run());
  }

  public CircuitBreaker breaker() {
    return breaker;
  }

  @Override
  public void close() {
    http.close();
  }
}
