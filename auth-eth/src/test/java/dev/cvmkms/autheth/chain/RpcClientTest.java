package dev.cvmkms.autheth.chain;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cvmkms.autheth.chain.RpcException.Kind;
import dev.cvmkms.autheth.config.RpcEndpoint;
import dev.cvmkms.autheth.config.RpcSettings;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The shared client against an in-process stub provider on 127.0.0.1. */
class RpcClientTest {
  static final String CANARY = "CANARY-rpc-7d1e";
  final Vertx vertx = Vertx.vertx();
  final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  final List<Long> arrivals = new CopyOnWriteArrayList<>();
  final List<String> seen = new CopyOnWriteArrayList<>();
  volatile Consumer<HttpServerRequest> behaviour;
  HttpServer server;
  RpcClient client;

  @AfterEach
  void close() throws Exception {
    if (client != null) {
      client.close();
    }
    vertx.close().await(30, TimeUnit.SECONDS);
  }

  RpcClient start(Consumer<HttpServerRequest> b, String urlSuffix, Duration deadline)
      throws Exception {
    return start(b, urlSuffix, deadline, 100, 100);
  }

  RpcClient start(
      Consumer<HttpServerRequest> b, String urlSuffix, Duration deadline, double rate, int burst)
      throws Exception {
    behaviour = b;
    server =
        vertx
            .createHttpServer()
            .requestHandler(
                req -> {
                  arrivals.add(System.nanoTime());
                  seen.add(req.uri() + " " + req.headers().get("X-Api-Key"));
                  behaviour.accept(req);
                })
            .listen(0, "127.0.0.1")
            .await(30, TimeUnit.SECONDS);
    RpcSettings s =
        new RpcSettings(
            // connect and attempt timeouts far above a healthy loopback call on a loaded machine
            Duration.ofMillis(2000),
            Duration.ofMillis(2000),
            deadline,
            2,
            Duration.ofMillis(10),
            Duration.ofMillis(50),
            Duration.ofSeconds(30),
            4,
            16,
            rate,
            burst,
            5,
            Duration.ofSeconds(30),
            4096);
    CircuitBreaker breaker =
        Breakers.create(
            "eth_rpc",
            s.breakerFailures(),
            s.breakerReset(),
            Breakers.clockOf(System::nanoTime),
            null);
    client =
        new RpcClient(
            vertx,
            new RpcEndpoint(
                "http://127.0.0.1:" + server.actualPort() + urlSuffix,
                Optional.of(CANARY),
                "X-Api-Key"),
            s,
            new OutboundBudget(s.ratePerSecond(), s.burst(), System::nanoTime),
            breaker,
            new RpcMetrics(registry, breaker),
            System::nanoTime,
            Math::random);
    return client;
  }

  Object call(Duration deadline) throws Exception {
    Future<Object> f =
        client.call("eth_chainId", new JsonArray(), Deadline.after(deadline, System::nanoTime));
    return f.toCompletionStage()
        .toCompletableFuture()
        .handle((v, e) -> e != null ? e : v)
        .get(30, TimeUnit.SECONDS);
  }

  static void ok(HttpServerRequest req) {
    req.response()
        .putHeader("content-type", "application/json")
        .end("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"0x7a69\"}");
  }

  @Test
  void keyTravelsInTheHeaderAndResultComesBack() throws Exception {
    start(RpcClientTest::ok, "/rpc", Duration.ofSeconds(10));
    assertThat(call(Duration.ofSeconds(10))).isEqualTo("0x7a69");
    assertThat(seen).containsExactly("/rpc " + CANARY);
  }

  @Test
  void httpsUrlsSpeakTls() throws Exception {
    start(RpcClientTest::ok, "", Duration.ofSeconds(10));
    client.close();
    RpcSettings d = RpcSettings.defaults();
    CircuitBreaker breaker =
        Breakers.create("eth_rpc", 5, d.breakerReset(), Breakers.clockOf(System::nanoTime), null);
    client =
        new RpcClient(
            vertx,
            new RpcEndpoint(
                "https://127.0.0.1:" + server.actualPort(), Optional.empty(), "X-Api-Key"),
            d,
            new OutboundBudget(100, 100, System::nanoTime),
            breaker,
            new RpcMetrics(registry, breaker),
            System::nanoTime,
            Math::random);
    // A TLS ClientHello is not an HTTP request: the plain stub never sees a call, the call fails.
    assertThat(call(Duration.ofSeconds(10))).isInstanceOf(RpcException.class);
    assertThat(arrivals).isEmpty();
  }

  @Test
  void honoursRetryAfterThenSucceeds() throws Exception {
    int[] n = {0};
    start(
        req -> {
          if (n[0]++ == 0) {
            req.response().setStatusCode(429).putHeader("retry-after", "1").end("{}");
          } else {
            ok(req);
          }
        },
        "",
        Duration.ofSeconds(10));
    assertThat(call(Duration.ofSeconds(10))).isEqualTo("0x7a69");
    assertThat(arrivals).hasSize(2);
    assertThat(arrivals.get(1) - arrivals.get(0)).isGreaterThanOrEqualTo(950_000_000L);
    assertThat(registry.scrape()).contains("autheth_rpc_throttled_total 1.0");
  }

  @Test
  void retryAfterBeyondTheDeadlineFailsFast() throws Exception {
    start(
        req -> req.response().setStatusCode(429).putHeader("retry-after", "60").end(),
        "",
        Duration.ofSeconds(2));
    // Retry-After 60 s is past the 20 s deadline: failing at once takes far less than the 10 s
    // allowed here; waiting would take the whole deadline.
    long t0 = System.nanoTime();
    Object r = call(Duration.ofSeconds(20));
    assertThat(r)
        .isInstanceOfSatisfying(
            RpcException.class, e -> assertThat(e.kind()).isEqualTo(Kind.THROTTLED));
    assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(10_000);
    assertThat(arrivals).hasSize(1);
    // Later calls respect the provider's wait too, without sending anything.
    assertThat(call(Duration.ofSeconds(2))).isInstanceOf(RpcException.class);
    assertThat(arrivals).hasSize(1);
  }

  @Test
  void hangsTimeOutWithoutLeakingTheUrl() throws Exception {
    start(req -> {}, "/v3/" + CANARY + "?apikey=" + CANARY, Duration.ofSeconds(10));
    long t0 = System.nanoTime();
    Object r = call(Duration.ofSeconds(10));
    long took = (System.nanoTime() - t0) / 1_000_000;
    assertThat(r)
        .isInstanceOfSatisfying(
            RpcException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(Kind.TIMEOUT);
              assertThat(e.toString()).doesNotContain(CANARY).doesNotContain("/v3/");
              assertThat(e.getCause()).isNull();
            });
    // At least one attempt timeout; at most the 10 s deadline plus what a loaded machine adds (the
    // alternative ruled out is waiting on a provider that never answers).
    assertThat(took).isBetween(2000L, 13_000L);
    // At most maxRetries + 1 attempts (on a starved machine an attempt can time out before the
    // stub has even read it, so no lower bound).
    assertThat(arrivals.size()).isLessThanOrEqualTo(3);
    assertThat(registry.scrape()).doesNotContain(CANARY).contains("outcome=\"timeout\"");
  }

  @Test
  void garbageAndOversizedBodiesAreBadResponses() throws Exception {
    start(req -> req.response().end("<html>" + "x".repeat(10_000)), "", Duration.ofSeconds(10));
    Object r = call(Duration.ofSeconds(10));
    assertThat(r)
        .isInstanceOfSatisfying(
            RpcException.class, e -> assertThat(e.kind()).isEqualTo(Kind.BAD_RESPONSE));
    behaviour = req -> req.response().end("not json");
    assertThat(call(Duration.ofSeconds(10)))
        .isInstanceOfSatisfying(
            RpcException.class, e -> assertThat(e.kind()).isEqualTo(Kind.BAD_RESPONSE));
  }

  @Test
  void revertsAreNotRetriedAndDoNotTripTheBreaker() throws Exception {
    start(
        req ->
            req.response()
                .end(
                    "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":3,\"message\":\"execution reverted\"}}"),
        "",
        Duration.ofSeconds(10));
    for (int i = 0; i < 6; i++) {
      assertThat(call(Duration.ofSeconds(10)))
          .isInstanceOfSatisfying(
              RpcException.class, e -> assertThat(e.kind()).isEqualTo(Kind.REVERTED));
    }
    assertThat(arrivals).hasSize(6);
    assertThat(client.breaker().getState()).isEqualTo(CircuitBreaker.State.CLOSED);
  }

  /**
   * Issue #13: an inbound flood at 10x the outbound budget. Calls that cannot get a token in time
   * fail at once as rate-limited, nothing counts against the provider, the breaker never opens, and
   * the first call after the flood gets a real answer.
   */
  @Test
  void aFloodAtTenTimesTheBudget_neverOpensTheBreaker_andTheNextCallIsReal() throws Exception {
    start(RpcClientTest::ok, "", Duration.ofSeconds(1), 5, 5);
    java.util.List<Future<Object>> flood = new java.util.ArrayList<>();
    long t0 = System.nanoTime();
    for (int i = 0; i < 100; i++) { // 5 calls/s budget, 100 calls within a fraction of a second
      flood.add(
          client.call(
              "eth_chainId",
              new JsonArray(),
              Deadline.after(Duration.ofSeconds(1), System::nanoTime)));
      assertThat(client.breaker().getState()).isEqualTo(CircuitBreaker.State.CLOSED);
    }
    int ok = 0;
    int limited = 0;
    for (Future<Object> f : flood) {
      Object r =
          f.toCompletionStage()
              .toCompletableFuture()
              .handle((v, e) -> e != null ? e : v)
              .get(20, TimeUnit.SECONDS);
      if ("0x7a69".equals(r)) {
        ok++;
      } else {
        assertThat(r)
            .isInstanceOfSatisfying(
                RpcException.class, e -> assertThat(e.kind()).isEqualTo(Kind.RATE_LIMITED));
        limited++;
      }
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    assertThat(ok + limited).isEqualTo(100);
    assertThat(limited).isGreaterThan(0);
    // The budget held: burst + rate * elapsed (plus one token of rounding).
    assertThat(arrivals.size()).isLessThanOrEqualTo((int) (5 + 5 * seconds) + 1);
    assertThat(client.breaker().getState()).isEqualTo(CircuitBreaker.State.CLOSED);
    assertThat(client.breaker().getMetrics().getNumberOfFailedCalls()).isZero();
    assertThat(registry.scrape()).contains("reason=\"rate_limited\"");

    // Once the flood has stopped and the budget had time to refill (a sleep lasts at least this
    // long, and the bucket refills by elapsed time), the next call is a real answer: nothing the
    // flood did opened the breaker or poisoned the client.
    Thread.sleep(1_000);
    assertThat(call(Duration.ofSeconds(10))).isEqualTo("0x7a69");
  }

  @Test
  void anAttemptCutShortByTheDeadline_isNeutralForTheBreaker() throws Exception {
    // attempt timeout 300 ms, deadline 200 ms: every timeout is our deadline's, not the provider's.
    start(req -> {}, "", Duration.ofMillis(200));
    for (int i = 0; i < 8; i++) {
      assertThat(call(Duration.ofMillis(200))).isInstanceOf(RpcException.class);
    }
    assertThat(client.breaker().getState()).isEqualTo(CircuitBreaker.State.CLOSED);
    assertThat(client.breaker().getMetrics().getNumberOfFailedCalls()).isZero();
  }

  @Test
  void breakerOpensAndThenNothingIsSent() throws Exception {
    start(
        req -> req.response().setStatusCode(502).end("<html>bad gateway</html>"),
        "",
        Duration.ofSeconds(2));
    // Deadlines far beyond the attempts: the retry count, not machine speed, decides.
    call(Duration.ofSeconds(20)); // 3 attempts
    call(Duration.ofSeconds(20)); // 2 more: 5 consecutive failures
    assertThat(client.breaker().getState()).isEqualTo(CircuitBreaker.State.OPEN);
    int sent = arrivals.size();
    assertThat(sent).isEqualTo(5);
    assertThat(call(Duration.ofSeconds(2)))
        .isInstanceOfSatisfying(
            RpcException.class, e -> assertThat(e.kind()).isEqualTo(Kind.CIRCUIT_OPEN));
    assertThat(arrivals).hasSize(sent);
    assertThat(registry.scrape()).contains("autheth_rpc_breaker_state 1.0");
  }
}
