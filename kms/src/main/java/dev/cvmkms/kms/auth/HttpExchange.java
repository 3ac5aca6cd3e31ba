package dev.cvmkms.kms.auth;

import dev.cvmkms.kms.auth.WebhookException.Outcome;
import dev.cvmkms.kms.upstream.RetryAfter;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ConnectionPoolTooBusyException;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.RequestOptions;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.time.Clock;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;
import org.jspecify.annotations.Nullable;

/**
 * One HTTP attempt against the webhook: at most {@code timeoutMs} from asking the pool for a
 * connection to the last body byte. On timeout or an oversized body the stream is reset, which
 * closes that HTTP/1.1 connection so a hung webhook cannot pin pooled connections. Bodies are
 * accumulated only up to the cap.
 */
final class HttpExchange {
  /** A complete response: status, Retry-After in ms (-1 if none) and the (capped) body. */
  @SuppressWarnings("ArrayRecordComponent") // a response as received; never compared or hashed
  record Raw(int status, long retryAfterMillis, byte[] body) {}

  private final Vertx vertx;
  private final String shownUrl;
  private final int maxBytes;
  private final long timeoutMs;
  private final Promise<Raw> promise = Promise.promise();
  private @Nullable HttpClientRequest request; // set once the pool gives one
  private boolean done;
  private long timerId = -1;

  private HttpExchange(Vertx vertx, String shownUrl, int maxBytes, long timeoutMs) {
    this.vertx = vertx;
    this.shownUrl = shownUrl;
    this.maxBytes = maxBytes;
    this.timeoutMs = timeoutMs;
  }

  /**
   * Sends one request. Must be called on a Vert.x context; all callbacks then run on it.
   *
   * @param shownUrl the redacted URL for error messages
   */
  static Future<Raw> run(
      Vertx vertx,
      HttpClientAgent http,
      RequestOptions request,
      @Nullable Buffer body,
      String shownUrl,
      int maxBytes,
      long timeoutMs) {
    HttpExchange x = new HttpExchange(vertx, shownUrl, maxBytes, timeoutMs);
    x.start(http, request, body);
    return x.promise.future();
  }

  private void start(HttpClientAgent http, RequestOptions options, @Nullable Buffer body) {
    String timedOut = "auth api " + shownUrl + " timed out after " + timeoutMs + " ms";
    timerId =
        vertx.setTimer(timeoutMs, id -> fail(new WebhookException(Outcome.TIMEOUT, timedOut)));
    Future<HttpClientRequest> requested;
    try {
      requested = http.request(options);
    } catch (IllegalStateException closed) {
      // The pool was closed (shutdown) while a retry or refresh was pending.
      fail(
          new WebhookException(
              Outcome.ERROR, "auth api " + shownUrl + " client is closed", 0, -1, true));
      return;
    }
    requested.onComplete(
        ar -> {
          if (ar.failed()) {
            fail(transportError(ar.cause()));
            return;
          }
          HttpClientRequest req = ar.result();
          request = req;
          if (done) {
            req.reset();
            return;
          }
          req.exceptionHandler(t -> fail(transportError(t)));
          Future<HttpClientResponse> sent = body == null ? req.send() : req.send(body);
          sent.onComplete(
              rar -> {
                if (rar.failed()) {
                  fail(transportError(rar.cause()));
                } else {
                  read(rar.result());
                }
              });
        });
  }

  private void read(HttpClientResponse resp) {
    // First, so a reset we cause below is not logged by Vert.x as an unhandled error.
    resp.exceptionHandler(t -> fail(transportError(t)));
    if (done) {
      return;
    }
    int cap = maxBytes;
    String declared = resp.getHeader("Content-Length");
    if (declared != null && declaredTooLarge(declared, cap)) {
      fail(oversize(cap));
      return;
    }
    Buffer acc = Buffer.buffer();
    long retryAfter = retryAfterMillis(resp.getHeader("Retry-After"));
    resp.handler(
        chunk -> {
          if (done) {
            return;
          }
          if (acc.length() + chunk.length() > cap) {
            fail(oversize(cap));
            return;
          }
          acc.appendBuffer(chunk);
        });
    resp.endHandler(v -> succeed(new Raw(resp.statusCode(), retryAfter, acc.getBytes())));
  }

  private void succeed(Raw raw) {
    if (done) {
      return;
    }
    done = true;
    vertx.cancelTimer(timerId);
    promise.complete(raw);
  }

  private void fail(WebhookException e) {
    if (done) {
      return;
    }
    done = true;
    vertx.cancelTimer(timerId);
    HttpClientRequest req = request;
    if (req != null) {
      req.reset(); // closes the HTTP/1.1 connection: it cannot be reused mid-response
    }
    promise.fail(e);
  }

  private WebhookException oversize(int cap) {
    return new WebhookException(
        Outcome.DECODE, "auth api " + shownUrl + " response exceeds " + cap + " bytes");
  }

  private static boolean declaredTooLarge(String declared, int cap) {
    try {
      return Long.parseLong(declared.trim()) > cap;
    } catch (NumberFormatException e) {
      return false; // the streaming cap still applies
    }
  }

  /** Maps Vert.x/Netty errors to a short description; their messages may quote the query. */
  private WebhookException transportError(Throwable t) {
    String prefix = "auth api " + shownUrl;
    if (t instanceof ConnectionPoolTooBusyException) {
      return new WebhookException(
          Outcome.ERROR, prefix + " request refused: connection pool queue is full", 0, -1, true);
    }
    if (t instanceof TimeoutException
        || t instanceof io.netty.channel.ConnectTimeoutException
        || t.getClass().getSimpleName().contains("Timeout")) {
      return new WebhookException(
          Outcome.TIMEOUT, prefix + " timed out after " + timeoutMs + " ms");
    }
    String what;
    if (t instanceof ConnectException) {
      what = "connection refused";
    } else if (t instanceof HttpClosedException) {
      what = "connection closed";
    } else if (t instanceof UnknownHostException) {
      what = "unknown host";
    } else if (t instanceof SSLException) {
      what = "TLS failure";
    } else if (t instanceof java.io.IOException
        && t.getMessage() != null
        && t.getMessage().toLowerCase(java.util.Locale.ROOT).contains("reset")) {
      what = "connection reset";
    } else {
      what = t.getClass().getSimpleName();
    }
    return new WebhookException(Outcome.ERROR, prefix + " request failed: " + what);
  }

  /** RFC 9110 Retry-After in ms (the shared parser); -1 when absent or unreadable. */
  static long retryAfterMillis(@Nullable String value) {
    long nanos = RetryAfter.nanos(value, Clock.systemUTC());
    return nanos < 0 ? -1 : nanos / 1_000_000;
  }
}
