package dev.cvmkms.kms.ops;

import dev.cvmkms.kms.config.ListenerLimits;
import dev.cvmkms.kms.rpc.PrpcErrors;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.Router;
import java.lang.management.ManagementFactory;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Enforces {@link ListenerLimits} on one HTTP listener: deadlines for the request head (TLS
 * handshake included) and body, caps on open connections per listener and per remote address,
 * header count and size, URL length, and no bodies on routes that take none. Every cut is counted
 * by cause in {@code kms.http.limited{listener,cause}}; none is logged per event (a flood must not
 * become a log flood).
 *
 * <p>Per connection the guard keeps one timer: armed when the connection opens (first head within
 * {@code header_timeout}) and, on HTTP/1.x, again when a response ends (next head within {@code
 * idle_timeout}); a request's arrival cancels it. Vert.x's own idle timeout is reset by every byte,
 * so only these absolute deadlines stop a client that sends one byte per second. Everything is O(1)
 * per connection and request.
 */
public final class ListenerGuard {
  private static final Logger LOG = LoggerFactory.getLogger(ListenerGuard.class);

  /** Why a connection or request was cut. */
  public enum Cause {
    HEADER_TIMEOUT,
    BODY_TIMEOUT,
    TOO_MANY_CONNECTIONS,
    TOO_MANY_FROM_ADDRESS,
    TOO_MANY_HEADERS,
    BODY_NOT_ALLOWED,
    BAD_URL;

    String tag() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** File descriptors kept free for everything but connections (jars, logs, outbound clients). */
  static final int RESERVED_FDS = 128;

  private final Vertx vertx;
  private final ListenerLimits limits;
  private final Predicate<String> takesBody;
  private final int maxConnections;
  private final AtomicInteger open = new AtomicInteger();
  private final Map<String, Integer> perAddress = new ConcurrentHashMap<>();
  private final Map<HttpConnection, Conn> connections = new ConcurrentHashMap<>();
  private final Map<Cause, Counter> cuts = new EnumMap<>(Cause.class); // every cause

  /**
   * @param listener the listener's name for the metric tag ({@code rpc}, {@code onboard}, ...)
   * @param takesBody true for request paths whose routes read a body (e.g. {@code /prpc/...})
   */
  public ListenerGuard(
      Vertx vertx,
      String listener,
      ListenerLimits limits,
      Predicate<String> takesBody,
      MeterRegistry registry) {
    this.vertx = vertx;
    this.limits = limits;
    this.takesBody = takesBody;
    this.maxConnections = Math.min(limits.maxConnections(), fdBound());
    if (maxConnections < limits.maxConnections()) {
      LOG.warn(
          "{} listener: limits.max_connections {} exceeds what the file descriptor limit leaves;"
              + " using {}",
          listener,
          limits.maxConnections(),
          maxConnections);
    }
    for (Cause cause : Cause.values()) {
      cuts.put(
          cause,
          Counter.builder("kms.http.limited")
              .description("Connections and requests cut by the listener limits, by cause")
              .tags("listener", listener, "cause", cause.tag())
              .register(registry));
    }
    Gauge.builder("kms.http.connections", open, AtomicInteger::get)
        .description("Open connections of the listener")
        .tags("listener", listener)
        .register(registry);
  }

  /** Connections the process can hold: its fd limit minus a reserve, when the JVM tells it. */
  static int fdBound() {
    if (ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
      long max = unix.getMaxFileDescriptorCount();
      if (max > 0) {
        return (int) Math.max(16, Math.min(Integer.MAX_VALUE, max - RESERVED_FDS));
      }
    }
    return Integer.MAX_VALUE;
  }

  /** The server options these limits imply; applied on top of the listener's own. */
  public HttpServerOptions apply(HttpServerOptions options) {
    return options
        // With h2c on, a plain connection reaches the connection handler only after its first
        // bytes (h2c or HTTP/1?), so idle ones would escape every cap and deadline. No client of
        // ours speaks h2c; TLS listeners negotiate h2 by ALPN, unaffected.
        .setHttp2ClearTextEnabled(false)
        .setMaxHeaderSize((int) limits.maxHeaderSize())
        // The request line holds method, URL and version: room for the two around the URL.
        .setMaxInitialLineLength((int) limits.maxUrlLength() + 32)
        .setIdleTimeout((int) limits.idleTimeout().toMillis())
        .setIdleTimeoutUnit(TimeUnit.MILLISECONDS)
        .setSslHandshakeTimeout(limits.headerTimeout().toMillis())
        .setSslHandshakeTimeoutUnit(TimeUnit.MILLISECONDS);
  }

  /**
   * Installs the connection side on {@code server} (call before {@code listen}). The request side
   * goes first in the router ({@link #mount}) or around the request handler ({@link #wrap}).
   */
  public HttpServer install(HttpServer server) {
    server.connectionHandler(this::connected);
    server.invalidRequestHandler(
        request -> {
          Conn conn = connections.get(request.connection());
          if (conn != null) {
            conn.requestArrived();
          }
          HttpServerRequest.DEFAULT_INVALID_REQUEST_HANDLER.handle(request);
        });
    return server;
  }

  /**
   * Listens and, when {@code vertx} was built with {@link AcceptGate#transport()}, applies the
   * connection caps at accept time as well, ahead of TLS (see {@link AcceptGate}).
   */
  public io.vertx.core.Future<HttpServer> listen(HttpServer server) {
    return server
        .listen()
        .map(
            listening -> {
              AcceptGate.of(vertx)
                  .ifPresent(
                      gate ->
                          gate.limit(
                              listening.actualPort(),
                              maxConnections,
                              limits.maxConnectionsPerAddress(),
                              cause -> counter(cause).increment()));
              return listening;
            });
  }

  /** The request side as the router's first handler. */
  public void mount(Router router) {
    router
        .route()
        .order(Integer.MIN_VALUE)
        .handler(
            ctx -> {
              Runnable done = begin(ctx.request());
              if (done != null) {
                ctx.addEndHandler(v -> done.run());
                ctx.next();
              }
            });
  }

  /** The request side around a plain request handler. */
  public Handler<HttpServerRequest> wrap(Handler<HttpServerRequest> next) {
    return request -> {
      Runnable done = begin(request);
      if (done != null) {
        request.response().endHandler(v -> done.run());
        next.handle(request);
      }
    };
  }

  /** Open connections of this listener (tests). */
  public int openConnections() {
    return open.get();
  }

  /** How many were cut for {@code cause} so far (tests). */
  public long cut(Cause cause) {
    return (long) counter(cause).count();
  }

  private Counter counter(Cause cause) {
    return Objects.requireNonNull(cuts.get(cause), "the constructor registers every cause");
  }

  // Under AcceptGate (KmsRuntime's Vert.x) the caps below are not the binding check: the gate
  // counts each connection at accept, before TLS, with the same limits. They remain for a Vert.x
  // built without the gate (ListenerGuardTest, HttpsListener's tests), where this is the only one.
  private void connected(HttpConnection connection) {
    SocketAddress remote = connection.remoteAddress();
    String host = remote == null || remote.hostAddress() == null ? "?" : remote.hostAddress();
    int total = open.incrementAndGet();
    int fromHost = perAddress.merge(host, 1, Integer::sum);
    connection.closeHandler(v -> released(connection, host));
    if (total > maxConnections) {
      refuse(connection, Cause.TOO_MANY_CONNECTIONS);
    } else if (fromHost > limits.maxConnectionsPerAddress()) {
      refuse(connection, Cause.TOO_MANY_FROM_ADDRESS);
    } else {
      Conn conn = new Conn(connection);
      connections.put(connection, conn);
      conn.arm(limits.headerTimeout().toMillis());
    }
  }

  private void refuse(HttpConnection connection, Cause cause) {
    counter(cause).increment();
    connection.close();
  }

  private void released(HttpConnection connection, String host) {
    open.decrementAndGet();
    perAddress.computeIfPresent(host, (k, n) -> n <= 1 ? null : n - 1);
    Conn conn = connections.remove(connection);
    if (conn != null) {
      conn.closed = true;
      conn.disarm();
    }
  }

  /**
   * Checks one request as it arrives; null when it was answered here, else the action to run when
   * its response has ended.
   */
  private @Nullable Runnable begin(HttpServerRequest request) {
    Conn conn = connections.get(request.connection());
    if (conn != null) {
      conn.requestArrived();
      if (request.version() == HttpVersion.HTTP_2) {
        conn.multiplexed = true;
      }
    }
    String uri = request.uri();
    if (uri != null && hasBadEscape(uri)) {
      badUrl(request);
      return null;
    }
    if (request.headers().size() > limits.maxHeaders()) {
      refuse(request, 431, Cause.TOO_MANY_HEADERS, "too many header fields");
      return null;
    }
    if (!takesBody.test(request.path() == null ? "" : request.path()) && bodyTooLarge(request)) {
      refuse(request, 413, Cause.BODY_NOT_ALLOWED, "this route takes no request body");
      return null;
    }
    long bodyTimer = -1;
    if (!request.isEnded()) {
      bodyTimer = vertx.setTimer(limits.bodyTimeout().toMillis(), t -> bodyLate(request));
    }
    long timer = bodyTimer;
    return () -> {
      if (timer >= 0) {
        vertx.cancelTimer(timer);
      }
      if (conn != null) {
        conn.requestDone();
      }
    };
  }

  /** True when a '%' is not followed by two hex digits (the router would throw on it). */
  static boolean hasBadEscape(String uri) {
    for (int i = uri.indexOf('%'); i >= 0; i = uri.indexOf('%', i + 1)) {
      if (i + 2 >= uri.length()
          || Character.digit(uri.charAt(i + 1), 16) < 0
          || Character.digit(uri.charAt(i + 2), 16) < 0) {
        return true;
      }
    }
    return false;
  }

  /** 400 in the pRPC error format on RPC paths, text elsewhere; one log line, no stack trace. */
  private void badUrl(HttpServerRequest request) {
    counter(Cause.BAD_URL).increment();
    SocketAddress remote = request.remoteAddress();
    LOG.info(
        "refused a request with malformed percent-encoding in its URL from {}",
        remote == null ? "?" : remote.hostAddress());
    String message = "invalid request URL: malformed percent-encoding";
    HttpServerResponse response = request.response();
    if (!request.isEnded() && request.version() != HttpVersion.HTTP_2) {
      response.putHeader(HttpHeaders.CONNECTION, "close");
    }
    String path = request.path() == null ? "" : request.path();
    io.vertx.core.Future<Void> sent =
        path.startsWith("/prpc/")
            ? PrpcErrors.send(response, HttpMethod.GET.equals(request.method()), message)
            : response
                .setStatusCode(400)
                .putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; charset=utf-8")
                .end(message);
    if (!request.isEnded() && request.version() != HttpVersion.HTTP_2) {
      sent.onComplete(v -> request.connection().close());
    }
  }

  private boolean bodyTooLarge(HttpServerRequest request) {
    if (request.getHeader(HttpHeaders.TRANSFER_ENCODING) != null) {
      return true; // chunked: unknown length, and no route here wants a body
    }
    String length = request.getHeader(HttpHeaders.CONTENT_LENGTH);
    if (length == null) {
      return false;
    }
    try {
      return Long.parseLong(length.trim()) > limits.noBodyLimit();
    } catch (NumberFormatException e) {
      return true;
    }
  }

  private void bodyLate(HttpServerRequest request) {
    if (request.isEnded()) {
      return; // the body is in; a slow handler is not the client's fault
    }
    counter(Cause.BODY_TIMEOUT).increment();
    HttpServerResponse response = request.response();
    if (!response.headWritten() && !response.ended() && !response.closed()) {
      response
          .setStatusCode(408)
          .putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; charset=utf-8")
          .putHeader(HttpHeaders.CONNECTION, "close")
          .end("request body not received in time")
          .onComplete(v -> request.connection().close());
    } else {
      request.connection().close();
    }
  }

  private void refuse(HttpServerRequest request, int status, Cause cause, String message) {
    counter(cause).increment();
    HttpServerResponse response = request.response();
    if (request.version() != HttpVersion.HTTP_2) {
      response.putHeader(HttpHeaders.CONNECTION, "close");
    }
    if (!request.isEnded()) {
      request.handler(chunk -> {});
    }
    response
        .setStatusCode(status)
        .putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; charset=utf-8")
        .end(message)
        .onComplete(
            v -> {
              if (request.version() != HttpVersion.HTTP_2) {
                request.connection().close();
              }
            });
  }

  /** One open connection's head deadline; touched only on its event loop. */
  private final class Conn {
    final HttpConnection connection;
    long timer = -1;
    int active;
    boolean multiplexed;
    boolean closed;

    Conn(HttpConnection connection) {
      this.connection = connection;
    }

    void arm(long millis) {
      disarm();
      if (closed) {
        return;
      }
      timer =
          vertx.setTimer(
              millis,
              t -> {
                timer = -1;
                if (active == 0) {
                  counter(Cause.HEADER_TIMEOUT).increment();
                  connection.close();
                }
              });
    }

    void disarm() {
      if (timer >= 0) {
        vertx.cancelTimer(timer);
        timer = -1;
      }
    }

    void requestArrived() {
      active++;
      disarm();
    }

    void requestDone() {
      active = Math.max(0, active - 1);
      if (active == 0 && !multiplexed) {
        arm(limits.idleTimeout().toMillis());
      }
    }
  }
}
