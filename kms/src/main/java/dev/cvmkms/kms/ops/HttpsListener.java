package dev.cvmkms.kms.ops;

import dev.cvmkms.kms.config.TlsEngine;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.ext.web.Router;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The main listener: HTTPS with the RPC certificate, client certificates optional (or mandatory)
 * and trusted only against the temp CA, HTTP/1.1 and h2 by ALPN, with the {@link ListenerGuard}'s
 * connection and request limits.
 */
public final class HttpsListener {
  private static final Logger LOG = LoggerFactory.getLogger(HttpsListener.class);
  private final HttpServer server;
  private final DrainState state;

  private HttpsListener(HttpServer server, DrainState state) {
    this.server = server;
    this.state = state;
  }

  /**
   * Requests in flight, and those cut by the drain: a request whose connection closed before its
   * response ended while draining. Touched from event loops, read by the shutdown thread.
   */
  private static final class DrainState {
    final AtomicBoolean draining = new AtomicBoolean();
    final AtomicInteger inFlight = new AtomicInteger();
    final AtomicInteger cut = new AtomicInteger();
    final AtomicLong served = new AtomicLong();
    final java.util.concurrent.CompletableFuture<Void> idle =
        new java.util.concurrent.CompletableFuture<>();

    final AtomicBoolean closed = new AtomicBoolean();

    /** Completes {@link #idle} once the server is shut down and nothing is in flight. */
    void checkIdle() {
      if (closed.get() && inFlight.get() == 0) {
        idle.complete(null);
      }
    }
  }

  /** With the default {@link dev.cvmkms.kms.config.ListenerLimits} (tests and fakes). */
  public static Future<HttpsListener> start(
      Vertx vertx,
      String host,
      int port,
      TlsIdentity tls,
      boolean clientAuthMandatory,
      Router router) {
    ListenerGuard guard =
        new ListenerGuard(
            vertx,
            "rpc",
            dev.cvmkms.kms.config.ListenerLimits.defaults(),
            path -> path.startsWith("/prpc/"),
            new io.micrometer.core.instrument.simple.SimpleMeterRegistry());
    return start(vertx, host, port, tls, clientAuthMandatory, router, guard);
  }

  /** On the default TLS engine ({@link TlsEngine#AUTO}). */
  public static Future<HttpsListener> start(
      Vertx vertx,
      String host,
      int port,
      TlsIdentity tls,
      boolean clientAuthMandatory,
      Router router,
      ListenerGuard guard) {
    return start(vertx, host, port, tls, clientAuthMandatory, router, guard, TlsEngine.AUTO);
  }

  public static Future<HttpsListener> start(
      Vertx vertx,
      String host,
      int port,
      TlsIdentity tls,
      boolean clientAuthMandatory,
      Router router,
      ListenerGuard guard,
      TlsEngine engine) {
    HttpServerOptions options =
        new HttpServerOptions()
            .setHost(host)
            .setPort(port)
            .setSsl(true)
            .setUseAlpn(true)
            .setAlpnVersions(List.of(HttpVersion.HTTP_2, HttpVersion.HTTP_1_1))
            .setKeyCertOptions(
                new PemKeyCertOptions()
                    .setKeyValue(Buffer.buffer(tls.keyPem()))
                    .setCertValue(Buffer.buffer(tls.certPem())))
            .setTrustOptions(new PemTrustOptions().addCertValue(Buffer.buffer(tls.clientCaPem())))
            .setClientAuth(clientAuthMandatory ? ClientAuth.REQUIRED : ClientAuth.REQUEST)
            .setCompressionSupported(false);
    useEngine(options, engine);
    guard.apply(options);
    DrainState state = new DrainState();
    guard.mount(router);
    closeConnectionsWhileDraining(router, state);
    return guard
        .listen(guard.install(vertx.createHttpServer(options)).requestHandler(router))
        .map(server -> new HttpsListener(server, state));
  }

  /** Whether BoringSSL (netty-tcnative) loaded in this process; checked once. */
  public static boolean openSslAvailable() {
    return OpenSSLEngineOptions.isAvailable();
  }

  private static void useEngine(HttpServerOptions options, TlsEngine engine) {
    boolean openssl =
        switch (engine) {
          case JDK -> false;
          case OPENSSL -> {
            if (!openSslAvailable()) {
              throw new IllegalStateException(
                  "rpc.tls.engine = \"openssl\" but BoringSSL (netty-tcnative) did not load on this"
                      + " platform; set it to \"auto\" or \"jdk\"");
            }
            yield true;
          }
          case AUTO -> {
            if (!openSslAvailable() && WARNED.compareAndSet(false, true)) {
              LOG.warn(
                  "TLS on the JDK's implementation: BoringSSL (netty-tcnative) did not load on this"
                      + " platform; full handshakes cost about three times the CPU");
            }
            yield openSslAvailable();
          }
        };
    if (openssl) {
      // Session tickets stay on (BoringSSL's default keys): a resumed session keeps the peer's
      // certificate, and every request re-verifies the attestation in it anyway.
      options.setSslEngineOptions(new OpenSSLEngineOptions());
    }
  }

  private static final AtomicBoolean WARNED = new AtomicBoolean();

  /**
   * While draining, every HTTP/1.x response (also of requests already in flight) says {@code
   * Connection: close} and its connection is closed once it is sent; otherwise keep-alive clients
   * would hold idle connections open and every shutdown would wait the whole grace period. HTTP/2
   * connections get GOAWAY from the server's own shutdown.
   */
  private static void closeConnectionsWhileDraining(Router router, DrainState state) {
    AtomicBoolean draining = state.draining;
    router
        .route()
        .order(Integer.MIN_VALUE)
        .handler(
            ctx -> {
              state.inFlight.incrementAndGet();
              ctx.addEndHandler(
                  v -> {
                    state.inFlight.decrementAndGet();
                    if (ctx.response().ended()) {
                      state.served.incrementAndGet();
                    } else if (draining.get()) {
                      state.cut.incrementAndGet();
                    }
                    state.checkIdle();
                  });
              if (ctx.request().version() != HttpVersion.HTTP_2) {
                ctx.addHeadersEndHandler(
                    v -> {
                      if (draining.get()) {
                        ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
                      }
                    });
                ctx.addEndHandler(
                    v -> {
                      if (draining.get()) {
                        ctx.request().connection().close();
                      }
                    });
              }
              ctx.next();
            });
  }

  public int port() {
    return server.actualPort();
  }

  /**
   * Shutdown phase 1: from now on every HTTP/1.x response says {@code Connection: close}, so that
   * keep-alive clients move off this listener during the pre-drain while it still accepts.
   */
  public void closeConnectionsAfterResponses() {
    state.draining.set(true);
  }

  /**
   * Shutdown phase 2: stops accepting at once and lets in-flight requests finish for up to {@code
   * budget}, then closes what is left (Vert.x 5 {@code shutdown}; {@code vertx.close()} alone would
   * cut them). Completes once the connections are closed; fails naming how many requests were cut.
   */
  public Future<Void> drain(Duration budget) {
    state.draining.set(true);
    long t0 = System.nanoTime();
    return server
        .shutdown(budget.toMillis(), TimeUnit.MILLISECONDS)
        // The server's future can complete before the closed connections' requests have ended;
        // wait for those too (the shutdown's overall bound covers a request that never ends).
        .compose(
            v -> {
              state.closed.set(true);
              state.checkIdle();
              return Future.fromCompletionStage(state.idle);
            })
        .compose(
            v -> {
              int cut = state.cut.get();
              LOG.info(
                  "http drain: listener closed after {} ms; {} requests served in total, {} cut",
                  (System.nanoTime() - t0) / 1_000_000,
                  state.served.get(),
                  cut);
              return cut == 0
                  ? Future.succeededFuture()
                  : Future.failedFuture(
                      new IllegalStateException(
                          cut + " in-flight requests were cut when the budget ran out"));
            });
  }

  /** Requests whose response has not ended yet. */
  public int inFlight() {
    return state.inFlight.get();
  }
}
