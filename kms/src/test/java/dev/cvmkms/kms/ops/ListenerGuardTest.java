package dev.cvmkms.kms.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cvmkms.kms.config.ListenerLimits;
import dev.cvmkms.kms.ops.ListenerGuard.Cause;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The listener limits over real sockets on loopback, with short deadlines from config so the rows
 * are quick: every assertion awaits a condition (bounded), none measures a time window.
 */
class ListenerGuardTest {
  private static final Duration HEADER = Duration.ofMillis(400);
  private static final Duration BODY = Duration.ofMillis(600);
  private static final int BODY_LIMIT = 4096;
  private static final Duration AWAIT = Duration.ofSeconds(60);

  private Vertx vertx;
  private HttpServer server;
  private ListenerGuard guard;
  private ExecutorService threads;
  private final List<Socket> sockets = new ArrayList<>();

  private void start(int maxConnections, int perAddress) throws Exception {
    start(HEADER, maxConnections, perAddress);
  }

  private void start(Duration header, int maxConnections, int perAddress) throws Exception {
    ListenerLimits limits =
        new ListenerLimits(
            header, BODY, Duration.ofSeconds(5), 2048, 20, 512, maxConnections, perAddress, 64);
    guard =
        new ListenerGuard(
            vertx, "test", limits, p -> p.startsWith("/prpc/"), new SimpleMeterRegistry());
    Router router = Router.router(vertx);
    guard.mount(router);
    router.get("/health").handler(ctx -> ctx.response().end("OK"));
    // A body route that answers once the whole body is in, as PrpcRoutes does.
    router
        .post("/prpc/Echo")
        .handler(
            ctx -> {
              var req = ctx.request();
              AtomicInteger n = new AtomicInteger();
              req.handler(b -> n.addAndGet(b.length()));
              req.endHandler(v -> ctx.response().end("got " + n.get()));
              req.resume();
            });
    server =
        guard
            .install(
                vertx.createHttpServer(
                    guard.apply(new HttpServerOptions().setHost("127.0.0.1").setPort(0))))
            .requestHandler(router)
            .listen()
            .await(10, TimeUnit.SECONDS);
  }

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    threads = Executors.newVirtualThreadPerTaskExecutor();
  }

  @AfterEach
  void tearDown() throws Exception {
    for (Socket s : sockets) {
      s.close();
    }
    threads.shutdownNow();
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  private Socket connect(String localAddress) throws IOException {
    Socket s = new Socket();
    s.bind(new InetSocketAddress(InetAddress.getByName(localAddress), 0));
    // The server's address exactly (not whatever getLoopbackAddress prefers).
    InetAddress serverHost = InetAddress.getByAddress(new byte[] {127, 0, 0, 1});
    s.connect(new InetSocketAddress(serverHost, server.actualPort()), 5000);
    s.setSoTimeout((int) AWAIT.toMillis());
    synchronized (sockets) {
      sockets.add(s);
    }
    return s;
  }

  /** One request on a fresh connection from {@code localAddress}; the whole response as text. */
  private String exchange(String localAddress, String request) throws IOException {
    try (Socket s = connect(localAddress)) {
      s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      return readAll(s.getInputStream());
    }
  }

  private static String readAll(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[4096];
    try {
      for (int n; (n = in.read(buf)) >= 0; ) {
        out.write(buf, 0, n);
        String text = out.toString(StandardCharsets.ISO_8859_1);
        if (text.contains("\r\n\r\n") && complete(text)) {
          break;
        }
      }
    } catch (IOException e) {
      // reset by the server after its answer: what was read is the answer
    }
    return out.toString(StandardCharsets.ISO_8859_1);
  }

  private static boolean complete(String text) {
    int head = text.indexOf("\r\n\r\n");
    String lower = text.substring(0, head).toLowerCase(Locale.ROOT);
    int i = lower.indexOf("content-length:");
    if (i < 0) {
      return false;
    }
    int end = lower.indexOf("\r\n", i);
    int length = Integer.parseInt(lower.substring(i + 15, end < 0 ? head : end).trim());
    return text.length() - head - 4 >= length;
  }

  /** True once the server closed {@code s} (EOF or reset); reads past any answer it sent. */
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

  private String polite() throws IOException {
    return exchange("127.0.0.2", "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  }

  @Test
  void slowHeaders_slowBodies_andIdleConnections_areCut_whilePoliteClientsAreServed()
      throws Exception {
    start(1000, 1000);
    int n = 40;
    List<Socket> slowHead = new ArrayList<>();
    List<Socket> slowBody = new ArrayList<>();
    List<Socket> idle = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      slowHead.add(connect("127.0.0.1"));
      Socket b = connect("127.0.0.1");
      b.getOutputStream()
          .write(
              "POST /prpc/Echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"
                  .getBytes(StandardCharsets.US_ASCII));
      slowBody.add(b);
      idle.add(connect("127.0.0.1"));
    }
    // One byte per connection every 50 ms (a timer, not a sleeping loop), for as long as the test
    // runs; the server's deadlines, not the pace, decide when they are cut.
    byte[] head = "GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ".getBytes(StandardCharsets.US_ASCII);
    AtomicInteger tick = new AtomicInteger();
    ScheduledExecutorService dripper = Executors.newSingleThreadScheduledExecutor();
    try {
      ScheduledFuture<?> unused =
          dripper.scheduleAtFixedRate(
              () -> {
                int t = tick.getAndIncrement();
                for (int i = 0; i < n; i++) {
                  drip(slowHead.get(i), t < head.length ? head[t] : (byte) 'a');
                  drip(slowBody.get(i), (byte) 'b');
                }
              },
              0,
              50,
              TimeUnit.MILLISECONDS);
      assertThat(polite()).startsWith("HTTP/1.1 200").endsWith("OK");
      await()
          .atMost(AWAIT)
          .until(
              () ->
                  slowHead.stream().allMatch(ListenerGuardTest::closedByServer)
                      && slowBody.stream().allMatch(ListenerGuardTest::closedByServer)
                      && idle.stream().allMatch(ListenerGuardTest::closedByServer));
      assertThat(guard.cut(Cause.HEADER_TIMEOUT)).isGreaterThanOrEqualTo(2L * n);
      assertThat(guard.cut(Cause.BODY_TIMEOUT)).isEqualTo(n);
      assertThat(polite()).startsWith("HTTP/1.1 200").endsWith("OK");
      await().atMost(AWAIT).until(() -> guard.openConnections() == 0);
    } finally {
      dripper.shutdownNow();
    }
  }

  private static void drip(Socket s, byte b) {
    try {
      OutputStream out = s.getOutputStream();
      out.write(b);
      out.flush();
    } catch (IOException e) {
      // closed by the server: that is the point
    }
  }

  @Test
  void slowBody_getsA408() throws Exception {
    start(100, 100);
    try (Socket s = connect("127.0.0.1")) {
      s.getOutputStream()
          .write(
              "POST /prpc/Echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab"
                  .getBytes(StandardCharsets.US_ASCII));
      assertThat(readAll(s.getInputStream())).startsWith("HTTP/1.1 408");
    }
    assertThat(guard.cut(Cause.BODY_TIMEOUT)).isEqualTo(1);
  }

  @Test
  void connectionsBeyondThePerAddressCap_areClosedAtOnce_otherAddressesStillServed()
      throws Exception {
    // A long head deadline, so the kept connections stay while the flood arrives.
    start(Duration.ofSeconds(30), 1000, 25);
    List<Socket> flood = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      flood.add(connect("127.0.0.1"));
    }
    await().atMost(AWAIT).until(() -> guard.cut(Cause.TOO_MANY_FROM_ADDRESS) == 175);
    await().atMost(AWAIT).until(() -> guard.openConnections() <= 25);
    assertThat(polite()).startsWith("HTTP/1.1 200");
    for (Socket s : flood) {
      s.close();
    }
    await().atMost(AWAIT).until(() -> guard.openConnections() == 0);
  }

  @Test
  void connectionsBeyondTheListenerCap_areClosedAtOnce() throws Exception {
    start(Duration.ofSeconds(30), 30, 30);
    for (int i = 0; i < 60; i++) {
      connect("127.0.0." + (1 + i % 3));
    }
    await().atMost(AWAIT).until(() -> guard.cut(Cause.TOO_MANY_CONNECTIONS) == 30);
    await().atMost(AWAIT).until(() -> guard.openConnections() <= 30);
  }

  @Test
  void tooManyHeaders_431_tooLargeHeaders_431_longUrl_414() throws Exception {
    start(100, 100);
    StringBuilder many = new StringBuilder("GET /health HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < 30; i++) {
      many.append("X-").append(i).append(": 1\r\n");
    }
    assertThat(exchange("127.0.0.1", many + "\r\n")).startsWith("HTTP/1.1 431");
    assertThat(guard.cut(Cause.TOO_MANY_HEADERS)).isEqualTo(1);
    String big = "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(3000) + "\r\n\r\n";
    assertThat(exchange("127.0.0.1", big)).startsWith("HTTP/1.1 431");
    String url = "GET /health?" + "a".repeat(600) + " HTTP/1.1\r\nHost: x\r\n\r\n";
    assertThat(exchange("127.0.0.1", url)).startsWith("HTTP/1.0 414");
    assertThat(polite()).startsWith("HTTP/1.1 200");
  }

  @Test
  void routesWithoutBody_refuseOneBeyondTheSmallLimit_butBodyRoutesTakeExactlyTheirLimit()
      throws Exception {
    start(100, 100);
    String post = "POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n";
    assertThat(exchange("127.0.0.1", post)).startsWith("HTTP/1.1 413");
    String chunked = "POST /nothing HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    assertThat(exchange("127.0.0.1", chunked)).startsWith("HTTP/1.1 413");
    assertThat(guard.cut(Cause.BODY_NOT_ALLOWED)).isEqualTo(2);
    String small = "GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 64\r\n\r\n" + "a".repeat(64);
    assertThat(exchange("127.0.0.1", small)).startsWith("HTTP/1.1 200");
    String exact =
        "POST /prpc/Echo HTTP/1.1\r\nHost: x\r\nContent-Length: "
            + BODY_LIMIT
            + "\r\n\r\n"
            + "a".repeat(BODY_LIMIT);
    assertThat(exchange("127.0.0.1", exact))
        .startsWith("HTTP/1.1 200")
        .endsWith("got " + BODY_LIMIT);
  }

  @Test
  void malformedEscapes_getAClearError_inThePrpcFormatOnRpcPaths() throws Exception {
    start(100, 100);
    String rpc = exchange("127.0.0.1", "GET /prpc/GetMeta?x=%zz HTTP/1.1\r\nHost: x\r\n\r\n");
    assertThat(rpc)
        .startsWith("HTTP/1.1 400")
        .contains("application/json")
        .endsWith("{\n  \"error\": \"invalid request URL: malformed percent-encoding\"\n}");
    String path = exchange("127.0.0.1", "GET /he%zalth HTTP/1.1\r\nHost: x\r\n\r\n");
    assertThat(path).startsWith("HTTP/1.1 400").endsWith("malformed percent-encoding");
    assertThat(ListenerGuard.hasBadEscape("/a%2Fb?c=%20")).isFalse();
    assertThat(ListenerGuard.hasBadEscape("/a?c=%2")).isTrue();
    assertThat(guard.cut(Cause.BAD_URL)).isEqualTo(2);
  }
}
