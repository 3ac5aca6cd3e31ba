package dev.cvmkms.kms.ops;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.ext.web.Router;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The main listener: HTTPS with the RPC certificate, client certificates optional (or mandatory)
 * and trusted only against the temp CA, HTTP/1.1 and h2 by ALPN, bounded header and idle limits.
 */
public final class HttpsListener {
  private final HttpServer server;

  private HttpsListener(HttpServer server) {
    this.server = server;
  }

  public static Future<HttpsListener> start(
      Vertx vertx,
      String host,
      int port,
      TlsIdentity tls,
      boolean clientAuthMandatory,
      Router router) {
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
            .setMaxHeaderSize(16 * 1024)
            .setMaxInitialLineLength(8 * 1024)
            .setIdleTimeout(60)
            .setIdleTimeoutUnit(TimeUnit.SECONDS)
            .setCompressionSupported(false);
    return vertx.createHttpServer(options).requestHandler(router).listen().map(HttpsListener::new);
  }

  public int port() {
    return server.actualPort();
  }

  /**
   * Stops accepting at once and lets in-flight requests finish for up to {@code grace}, then closes
   * what is left (Vert.x 5 {@code shutdown}; {@code vertx.close()} alone would cut them).
   */
  public Future<Void> drain(Duration grace) {
    return server.shutdown(grace.toMillis(), TimeUnit.MILLISECONDS);
  }
}
