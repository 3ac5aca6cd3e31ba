package dev.cvmkms.kms.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Empty;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.SelfSignedCertificate;
import io.vertx.ext.web.Router;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Caller over real TLS with optional client authentication (the main listener's setup). */
class CallerTest {
  private static final List<Caller> callers = new CopyOnWriteArrayList<>();
  private static Vertx vertx;
  private static HttpServer server;
  private static SelfSignedCertificate serverCert;
  private static SelfSignedCertificate clientCert;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    serverCert = SelfSignedCertificate.create("localhost");
    clientCert = SelfSignedCertificate.create("client-vm-1");
    Router router = Router.router(vertx);
    new PrpcRoutes(
            "KMS.",
            List.of(
                PrpcMethod.of(
                    "GetMeta",
                    Empty.getDefaultInstance(),
                    (caller, request) -> {
                      callers.add(caller);
                      return Future.succeededFuture(Empty.getDefaultInstance());
                    })),
            new SimpleMeterRegistry(),
            null)
        .mount(router);
    HttpServerOptions options =
        new HttpServerOptions()
            .setSsl(true)
            .setUseAlpn(true)
            .setKeyCertOptions(serverCert.keyCertOptions())
            .setTrustOptions(clientCert.trustOptions())
            .setClientAuth(ClientAuth.REQUEST);
    server =
        vertx
            .createHttpServer(options)
            .requestHandler(router)
            .listen(0, "127.0.0.1")
            .await(10, TimeUnit.SECONDS);
  }

  @BeforeEach
  void clear() {
    callers.clear();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close().await(10, TimeUnit.SECONDS);
    vertx.close().await(10, TimeUnit.SECONDS);
    serverCert.delete();
    clientCert.delete();
  }

  @Test
  void noClientCertificateOverHttp1GivesAnEmptyChain() throws Exception {
    assertThat(call(new HttpClientOptions())).isEqualTo(HttpVersion.HTTP_1_1);
    assertThat(callers).hasSize(1);
    assertThat(callers.get(0).certificateChain()).isEmpty();
    assertThat(callers.get(0).remoteAddress()).startsWith("127.0.0.1:");
  }

  @Test
  void noClientCertificateOverHttp2GivesAnEmptyChain() throws Exception {
    // Here Vert.x's peerCertificates() throws SSLPeerUnverifiedException; Caller must not.
    HttpVersion version =
        call(new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2).setUseAlpn(true));
    assertThat(version).isEqualTo(HttpVersion.HTTP_2);
    assertThat(callers).hasSize(1);
    assertThat(callers.get(0).hasCertificate()).isFalse();
  }

  @Test
  void clientCertificateIsPassedOn() throws Exception {
    call(new HttpClientOptions().setKeyCertOptions(clientCert.keyCertOptions()));
    assertThat(callers).hasSize(1);
    Caller caller = callers.get(0);
    assertThat(caller.hasCertificate()).isTrue();
    assertThat(caller.certificateChain().get(0).getSubjectX500Principal().getName())
        .isEqualTo("CN=client-vm-1");
    assertThat(caller.toString()).contains("CN=client-vm-1").doesNotContain("BEGIN");
  }

  private static HttpVersion call(HttpClientOptions options) throws Exception {
    HttpClient client =
        vertx.createHttpClient(options.setSsl(true).setTrustAll(true).setVerifyHost(false));
    try {
      HttpClientResponse response =
          client
              .request(HttpMethod.GET, server.actualPort(), "127.0.0.1", "/prpc/GetMeta")
              .compose(request -> request.send())
              .compose(r -> r.body().map(body -> r))
              .await(10, TimeUnit.SECONDS);
      assertThat(response.statusCode()).isEqualTo(200);
      return response.version();
    } finally {
      client.close().await(10, TimeUnit.SECONDS);
    }
  }
}
