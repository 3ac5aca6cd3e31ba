package dev.cvmkms.kms.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cvmkms.kms.keys.KeyBootstrap;
import dev.cvmkms.kms.keys.RootKeys;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.KeyStore;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;

/** The phased shutdown loses nothing: in-flight requests finish, new ones are refused. */
class ShutdownTest {
  @Test
  void run_drainsInFlightRequestsBeforeClosingVertx() throws Exception {
    RootKeys keys = new KeyBootstrap(Clock.systemUTC()).generate("localhost", Optional.empty());
    Vertx vertx = Vertx.vertx();
    Router router = Router.router(vertx);
    java.util.concurrent.CountDownLatch arrived = new java.util.concurrent.CountDownLatch(1);
    router
        .get("/slow")
        .handler(
            ctx -> {
              arrived.countDown();
              vertx.setTimer(600, t -> ctx.response().end("done"));
            });
    HttpsListener listener =
        HttpsListener.start(
                vertx,
                "127.0.0.1",
                0,
                new TlsIdentity(keys.secretRpcKeyPem(), keys.rpcCertPem(), keys.tmpCaCertPem()),
                false,
                router)
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    Readiness readiness = new Readiness();
    readiness.keysLoaded();
    readiness.accepting();
    HttpClient http = client(keys);
    URI slow = URI.create("https://localhost:" + listener.port() + "/slow");

    CompletableFuture<HttpResponse<String>> inFlight =
        http.sendAsync(HttpRequest.newBuilder(slow).build(), HttpResponse.BodyHandlers.ofString());
    // Shut down only once the request is in flight (a cold first TLS handshake on a loaded
    // machine can take longer than any fixed sleep).
    assertThat(arrived.await(30, TimeUnit.SECONDS)).isTrue();
    long t0 = System.nanoTime();
    Shutdown.run(vertx, readiness, listener, Duration.ofSeconds(5));
    long tookMs = (System.nanoTime() - t0) / 1_000_000;

    HttpResponse<String> r = inFlight.get(5, TimeUnit.SECONDS);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("done");
    assertThat(readiness.isReady()).isFalse();
    assertThat(readiness.reason()).isEqualTo("shutting down");
    assertThat(tookMs).as("waits for the request, not the whole grace").isLessThan(4_000);
    try (HttpClient fresh = client(keys)) {
      assertThatThrownBy(
              () ->
                  fresh.send(
                      HttpRequest.newBuilder(slow).build(), HttpResponse.BodyHandlers.ofString()))
          .isInstanceOf(java.io.IOException.class);
    }
    http.close();
  }

  private static HttpClient client(RootKeys keys) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("root", keys.rootCaCertificate());
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    return HttpClient.newBuilder().sslContext(ctx).version(HttpClient.Version.HTTP_1_1).build();
  }
}
