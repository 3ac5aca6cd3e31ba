package dev.cvmkms.kms.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cvmkms.kms.config.ListenerLimits;
import dev.cvmkms.kms.ops.ListenerGuard.Cause;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.SelfSignedCertificate;
import io.vertx.ext.web.Router;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The caps at accept time on a TLS listener, over real sockets: connections that never start a
 * handshake (invisible to {@link ListenerGuard}'s connection handler) are held to the per-address
 * and listener caps, the rest are closed at once, and a client from another address is served. Long
 * handshake deadlines, so only the caps can close anything; every wait is on a condition.
 */
class AcceptGateTest {
  private static final Duration AWAIT = Duration.ofSeconds(60);

  private Vertx vertx;
  private HttpServer server;
  private ListenerGuard guard;
  private AcceptGate gate;
  private final List<Socket> sockets = new ArrayList<>();

  private void start(int maxConnections, int perAddress) throws Exception {
    vertx = Vertx.builder().withTransport(AcceptGate.transport()).build();
    gate = AcceptGate.of(vertx).orElseThrow();
    ListenerLimits limits =
        new ListenerLimits(
            Duration.ofSeconds(60),
            Duration.ofSeconds(60),
            Duration.ofSeconds(60),
            2048,
            20,
            512,
            maxConnections,
            perAddress,
            64);
    guard = new ListenerGuard(vertx, "test", limits, p -> false, new SimpleMeterRegistry());
    Router router = Router.router(vertx);
    guard.mount(router);
    router.get("/health").handler(ctx -> ctx.response().end("OK"));
    SelfSignedCertificate cert = SelfSignedCertificate.create("localhost");
    HttpServerOptions options =
        guard.apply(
            new HttpServerOptions()
                .setHost("127.0.0.1")
                .setPort(0)
                .setSsl(true)
                .setKeyCertOptions(cert.keyCertOptions()));
    server =
        guard
            .listen(guard.install(vertx.createHttpServer(options)).requestHandler(router))
            .await(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void tearDown() throws Exception {
    for (Socket s : sockets) {
      s.close();
    }
    if (vertx != null) {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  private Socket connect(String localAddress) throws IOException {
    Socket s = new Socket();
    s.bind(new InetSocketAddress(InetAddress.getByName(localAddress), 0));
    // The server's address exactly (not whatever getLoopbackAddress prefers).
    InetAddress serverHost = InetAddress.getByAddress(new byte[] {127, 0, 0, 1});
    s.connect(new InetSocketAddress(serverHost, server.actualPort()), 5000);
    sockets.add(s);
    return s;
  }

  /** True once the server closed {@code s} (EOF or reset); false while it stays open. */
  private static boolean closedByServer(Socket s) {
    try {
      s.setSoTimeout(1);
      return s.getInputStream().read() < 0;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true;
    }
  }

  private String politeTls(String localAddress) throws Exception {
    var client =
        vertx.createHttpClient(
            new HttpClientOptions()
                .setSsl(true)
                .setTrustAll(true)
                .setVerifyHost(false)
                .setLocalAddress(localAddress));
    try {
      return client
          .request(HttpMethod.GET, server.actualPort(), "127.0.0.1", "/health")
          .compose(req -> req.send().compose(res -> res.body()))
          .map(Object::toString)
          .await(30, TimeUnit.SECONDS);
    } finally {
      client.close();
    }
  }

  @Test
  void silentTcpConnectionsBeyondThePerAddressCap_areClosedBeforeAnyHandshake() throws Exception {
    start(1000, 25);
    List<Socket> flood = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      flood.add(connect("127.0.0.1"));
    }
    await().atMost(AWAIT).until(() -> guard.cut(Cause.TOO_MANY_FROM_ADDRESS) == 175);
    assertThat(gate.open(server.actualPort())).isEqualTo(25);
    // None of them reached the connection handler: they are refused at accept time.
    assertThat(guard.openConnections()).isZero();
    await()
        .atMost(AWAIT)
        .until(() -> flood.stream().filter(AcceptGateTest::closedByServer).count() == 175);
    assertThat(politeTls("127.0.0.2")).isEqualTo("OK");

    for (Socket s : flood) {
      s.close();
    }
    await().atMost(AWAIT).until(() -> gate.open(server.actualPort()) == 0);
    // The address is welcome again once its connections are gone.
    assertThat(politeTls("127.0.0.1")).isEqualTo("OK");
  }

  @Test
  void silentTcpConnectionsBeyondTheListenerCap_areClosedBeforeAnyHandshake() throws Exception {
    start(30, 30);
    for (int i = 0; i < 60; i++) {
      connect("127.0.0." + (1 + i % 3));
    }
    await().atMost(AWAIT).until(() -> guard.cut(Cause.TOO_MANY_CONNECTIONS) == 30);
    assertThat(gate.open(server.actualPort())).isEqualTo(30);
  }

  @Test
  void aVertxWithoutTheGatedTransport_hasNoGate() {
    Vertx plain = Vertx.vertx();
    try {
      assertThat(AcceptGate.of(plain)).isEmpty();
    } finally {
      plain.close();
    }
  }
}
