package dev.cvmkms.kms.ops;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.ext.web.Router;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The main listener: HTTPS with the RPC certificate, client certificates optional (or mandatory)
 * and trusted only against the temp CA, HTTP/1.1 and h2 by ALPN, with the {@link ListenerGuard}'s
 * connection and request limits.
 */
public final class HttpsListener {
  private final HttpServer server;
  private final AtomicBoolean draining;

  private HttpsListener(HttpServer server, AtomicBoolean draining) {
    this.server = server;
    this.draining = draining;
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

  public static Future<HttpsListener> start(
      Vertx vertx,
      String host,
      int port,
      TlsIdentity tls,
      boolean clientAuthMandatory,
      Router router,
      ListenerGuard guard) {
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
    guard.apply(options);
    AtomicBoolean draining = new AtomicBoolean();
    guard.mount(router);
    closeConnectionsWhileDraining(router, draining);
    return guard
        .install(vertx.createHttpServer(options))
        .requestHandler(router)
        .listen()
        .map(server -> new HttpsListener(server, draining));
  }

  /**
   * While draining, every HTTP/1.x response (also of requests already in flight) says {@code
   * Connection: close} and its connection is closed once it is sent; otherwise keep-alive clients
   * would hold idle connections open and every shutdown would wait the whole grace period. HTTP/2
   * connections get GOAWAY from the server's own shutdown.
   */
  private static void closeConnectionsWhileDraining(Router router, AtomicBoolean draining) {
    router
        .route()
        .order(Integer.MIN_VALUE)
        .handler(
            ctx -> {
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
   * Stops accepting at once and lets in-flight requests finish for up to {@code grace}, then closes
   * what is left (Vert.x 5 {@code shutdown}; {@code vertx.close()} alone would cut them).
   */
  public Future<Void> drain(Duration grace) {
    draining.set(true);
    return server.shutdown(grace.toMillis(), TimeUnit.MILLISECONDS);
  }
}
