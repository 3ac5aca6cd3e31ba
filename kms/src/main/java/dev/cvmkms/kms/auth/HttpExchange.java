package dev.cvmkms.kms.auth;

import dev.cvmkms.kms.auth.WebhookException.Outcome;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ConnectionPoolTooBusyException;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.HttpMethod;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;

/**
 * One HTTP attempt against the webhook: at most {@code timeoutMs} from asking the pool for a
 * connection to the last body byte. On timeout or an oversized body the stream is reset, which
 * closes that HTTP/1.1 connection so a hung webhook cannot pin pooled connections. Bodies are
 * accumulated only up to the cap.
 */
final class HttpExchange {
  /** A complete response: status, Retry-After in ms (-1 if none) and the (capped) body. */
  record Raw(int status, long retryAfterMillis, byte[] body) {}

  private final WebhookClient client;
  private final Promise<Raw> promise = Promise.promise();
  private final long timeoutMs;
  private HttpClientRequest request;
  private boolean done;
  private long timerId = -1;

  private HttpExchange(WebhookClient client, long timeoutMs) {
    this.client = client;
    this.timeoutMs = timeoutMs;
  }

  /** Must be called on a Vert.x context; all callbacks then run on it. */
  static Future<Raw> run(
      WebhookClient client, HttpMethod method, String uri, Buffer body, long timeoutMs) {
    HttpExchange x = new HttpExchange(client, timeoutMs);
    x.start(method, uri, body);
    return x.promise.future();
  }

  private void start(HttpMethod method, String uri, Buffer body) {
    timerId =
        client
            .vertx()
            .setTimer(
                timeoutMs,
                id ->
                    fail(
                        new WebhookException(
                            Outcome.TIMEOUT,
                            "auth api "
                                + client.shown()
                                + " timed out after "
                                + timeoutMs
                                + " ms")));
    Future<HttpClientRequest> requested;
    try {
      requested =
          client.http().request(client.requestOptions(method, uri, timeoutMs, body != null));
    } catch (IllegalStateException closed) {
      // The pool was closed (shutdown) while a retry or refresh was pending.
      fail(
          new WebhookException(
              Outcome.ERROR, "auth api " + client.shown() + " client is closed", 0, -1, true));
      return;
    }
    requested.onComplete(
        ar -> {
          if (ar.failed()) {
            fail(transportError(ar.cause()));
            return;
          }
          request = ar.result();
          if (done) {
            request.reset();
            return;
          }
          request.exceptionHandler(t -> fail(transportError(t)));
          Future<HttpClientResponse> sent = body == null ? request.send() : request.send(body);
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
    int cap = client.maxResponseBytes();
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
    client.vertx().cancelTimer(timerId);
    promise.complete(raw);
  }

  private void fail(WebhookException e) {
    if (done) {
      return;
    }
    done = true;
    client.vertx().cancelTimer(timerId);
    if (request != null) {
      request.reset(); // closes the HTTP/1.1 connection: it cannot be reused mid-response
    }
    promise.fail(e);
  }

  private WebhookException oversize(int cap) {
    return new WebhookException(
        Outcome.DECODE, "auth api " + client.shown() + " response exceeds " + cap + " bytes");
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
    String prefix = "auth api " + client.shown();
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

  /** RFC 9110 Retry-After: delay-seconds or an HTTP-date; -1 when absent or unreadable. */
  static long retryAfterMillis(String value) {
    if (value == null || value.isBlank()) {
      return -1;
    }
    String v = value.trim();
    try {
      long secs = Long.parseLong(v);
      return secs < 0 ? -1 : Math.min(secs, 3600) * 1000;
    } catch (NumberFormatException ignored) {
      // try the date form
    }
    try {
      ZonedDateTime at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME);
      long ms = Duration.between(ZonedDateTime.now(at.getZone()), at).toMillis();
      return Math.max(0, Math.min(ms, 3_600_000));
    } catch (RuntimeException e) {
      return -1;
    }
  }
}
