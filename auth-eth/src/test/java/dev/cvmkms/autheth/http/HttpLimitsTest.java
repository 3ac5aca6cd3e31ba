package dev.cvmkms.autheth.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cvmkms.autheth.chain.KmsContract;
import dev.cvmkms.autheth.chain.RpcException;
import dev.cvmkms.autheth.config.AuthEthConfig;
import dev.cvmkms.autheth.config.Finality;
import dev.cvmkms.autheth.config.HttpLimits;
import dev.cvmkms.autheth.policy.DecisionService;
import dev.cvmkms.autheth.policy.MetadataCache;
import dev.cvmkms.autheth.policy.Scheduler;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * auth-eth's listener limits and its optional global limiter, over raw sockets with short deadlines
 * and a fake clock for the bucket: assertions await conditions or count by cause.
 */
class HttpLimitsTest {
  private static final Duration AWAIT = Duration.ofSeconds(60);
  private final Vertx vertx = Vertx.vertx();
  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private final List<Socket> sockets = new ArrayList<>();
  private PrometheusMeterRegistry registry;
  private MetadataCache cache;
  private ListenerGuard guard;
  private HttpServer server;

  @BeforeEach
  void start() throws Exception {
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Scheduler timers =
        new Scheduler() {
          @Override
          public long schedule(long delayMillis, Runnable task) {
            return vertx.setTimer(delayMillis, id -> task.run());
          }

          @Override
          public void cancel(long id) {
            if (id >= 0) {
              vertx.cancelTimer(id);
            }
          }
        };
    cache =
        new MetadataCache(
            () -> Future.failedFuture(new RpcException(RpcException.Kind.THROTTLED, "HTTP 429")),
            timers,
            System::nanoTime,
            Duration.ofSeconds(60),
            Duration.ofSeconds(60));
    KmsContract contract =
        new KmsContract(
            (m, p, d) ->
                Future.failedFuture(new RpcException(RpcException.Kind.THROTTLED, "HTTP 429")),
            "0x" + "ab".repeat(20));
    DecisionService decisions =
        new DecisionService(
            contract,
            cache,
            Finality.LATEST,
            OptionalLong.empty(),
            Duration.ofSeconds(1),
            System::nanoTime);
    HttpLimits limits =
        AuthEthConfig.fromEnv(
                Map.of(
                    "HTTP_HEADER_TIMEOUT_MS", "400",
                    "HTTP_BODY_TIMEOUT_MS", "500",
                    "HTTP_MAX_CONNECTIONS_PER_ADDRESS", "20",
                    "RATE_LIMIT_PER_SEC", "2",
                    "RATE_LIMIT_BURST", "3"))
            .httpLimits();
    assertThat(limits.rateLimited()).isTrue();
    Routes routes =
        new Routes(
            cache,
            decisions,
            registry,
            "0xAbC",
            "http://rpc.example",
            1024,
            System::nanoTime,
            new GlobalLimiter(limits.ratePerSecond(), limits.burst(), now::get));
    guard = new ListenerGuard(vertx, "http", limits, p -> p.startsWith("/bootAuth/"), registry);
    server =
        guard
            .install(
                vertx.createHttpServer(
                    guard.apply(new HttpServerOptions().setHost("127.0.0.1").setPort(0))))
            .requestHandler(guard.wrap(routes))
            .listen()
            .await(5, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws Exception {
    for (Socket s : sockets) {
      s.close();
    }
    cache.stop();
    vertx.close().await(5, TimeUnit.SECONDS);
  }

  private Socket connect(String local) throws IOException {
    Socket s = new Socket();
    s.bind(new InetSocketAddress(InetAddress.getByName(local), 0));
    s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.actualPort()), 5000);
    s.setSoTimeout((int) AWAIT.toMillis());
    sockets.add(s);
    return s;
  }

  private String exchange(String request) throws IOException {
    try (Socket s = connect("127.0.0.1")) {
      s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      InputStream in = s.getInputStream();
      byte[] buf = new byte[4096];
      try {
        for (int n; (n = in.read(buf)) >= 0; ) {
          out.write(buf, 0, n);
        }
      } catch (IOException e) {
        // reset after the answer
      }
      return out.toString(StandardCharsets.ISO_8859_1);
    }
  }

  private static boolean closedByServer(Socket s) {
    try {
      s.setSoTimeout(1);
      byte[] buf = new byte[1024];
      for (int i = 0; i < 64; i++) {
        if (s.getInputStream().read(buf) < 0) {
          return true;
        }
      }
      return false;
    } catch (java.net.SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true;
    }
  }

  @Test
  void globalLimiter_429WithRetryAfter_healthAndMetricsExempt() throws Exception {
    String get = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    for (int i = 0; i < 3; i++) {
      assertThat(exchange(get)).startsWith("HTTP/1.1 500"); // chain down, but not limited
    }
    String limited = exchange(get);
    assertThat(limited)
        .startsWith("HTTP/1.1 429")
        .containsIgnoringCase("retry-after: 1")
        .endsWith("{\"status\":\"error\",\"message\":\"rate limit exceeded\"}");
    for (int i = 0; i < 10; i++) {
      assertThat(exchange("GET /healthz/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
          .startsWith("HTTP/1.1 200");
    }
    now.addAndGet(Duration.ofSeconds(1).toNanos());
    assertThat(exchange(get)).startsWith("HTTP/1.1 500");
    assertThat(registry.scrape()).contains("autheth_http_rate_limited_total{route=\"/\"} 1.0");
  }

  @Test
  void slowHeadsAndBodiesAreCut_connectionsCappedPerAddress() throws Exception {
    List<Socket> idle = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      idle.add(connect("127.0.0.1"));
    }
    await().atMost(AWAIT).until(() -> guard.cut(ListenerGuard.Cause.TOO_MANY_FROM_ADDRESS) >= 40);
    assertThat(
            exchangeFrom(
                "127.0.0.2", "GET /healthz/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
        .startsWith("HTTP/1.1 200");
    await().atMost(AWAIT).until(() -> idle.stream().allMatch(HttpLimitsTest::closedByServer));
    assertThat(guard.cut(ListenerGuard.Cause.HEADER_TIMEOUT)).isPositive();

    String slowBody =
        "POST /bootAuth/app HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + "Content-Length: 100\r\n\r\n{";
    assertThat(exchange(slowBody)).startsWith("HTTP/1.1 408");
    assertThat(exchange("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n"))
        .startsWith("HTTP/1.1 413");
    await().atMost(AWAIT).until(() -> guard.openConnections() == 0);
  }

  private String exchangeFrom(String local, String request) throws IOException {
    try (Socket s = connect(local)) {
      s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    }
  }

  @Test
  void hostileJsonNesting_isRefusedLikeAnyUnparsableBody() throws Exception {
    String deep = "[".repeat(200) + "]".repeat(200);
    String request =
        "POST /bootAuth/app HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + "Connection: close\r\nContent-Length: "
            + deep.length()
            + "\r\n\r\n"
            + deep;
    assertThat(exchange(request))
        .startsWith("HTTP/1.1 500")
        .endsWith("{\"status\":\"error\",\"message\":\"authorization backend unavailable\"}");
  }
}
