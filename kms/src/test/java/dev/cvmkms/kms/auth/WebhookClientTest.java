package dev.cvmkms.kms.auth;

import static dev.cvmkms.kms.auth.FakeWebhook.Async.await;
import static dev.cvmkms.kms.auth.FakeWebhook.Async.awaitFailure;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cvmkms.kms.auth.FakeWebhook.Behaviour;
import dev.cvmkms.kms.auth.WebhookClient.Operation;
import dev.cvmkms.kms.auth.WebhookException.Outcome;
import dev.cvmkms.kms.config.AuthApiConfig;
import dev.cvmkms.kms.config.OutboundClientConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class WebhookClientTest {
  private TestVertx testVertx;
  private Vertx vertx;
  private FakeWebhook fake;
  private SimpleMeterRegistry registry;
  private final List<WebhookClient> clients = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    testVertx = new TestVertx();
    vertx = testVertx.vertx;
    fake = FakeWebhook.start(vertx);
    registry = new SimpleMeterRegistry();
  }

  @AfterEach
  void tearDown() throws Exception {
    for (WebhookClient c : clients) {
      await(c.close());
    }
    fake.close();
    testVertx.closeAndAssertNeverBlocked();
  }

  private WebhookClient client(AuthApiConfig.Webhook s) {
    WebhookClient c = new WebhookClient(vertx, s, registry, "1.2.3");
    clients.add(c);
    return c;
  }

  private static long millisSince(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }

  // ---- wire format ----

  @Test
  void bootAuth_postsExactBodyWithHeaders_toSlashJoinedPath() throws Exception {
    WebhookClient c = client(Fixtures.fast(fake.url()));

    BootDecision d = await(c.bootAuth(Operation.APP, Fixtures.boot()));

    assertThat(d).isEqualTo(new BootDecision(true, "", "0xgw"));
    FakeWebhook.Recorded r = fake.appRequests.get(0);
    assertThat(r.method()).isEqualTo("POST");
    assertThat(r.uri()).isEqualTo("/bootAuth/app");
    assertThat(r.headers().get("Content-Type")).isEqualTo("application/json");
    assertThat(r.headers().get("User-Agent")).isEqualTo("cvm-kms/1.2.3");
    assertThat(r.body())
        .isEqualTo(new String(WebhookJson.encode(Fixtures.boot()), StandardCharsets.UTF_8));
    assertThat(r.body()).startsWith("{\"teeVariant\":\"dstack-tdx\",\"mrAggregated\":");
  }

  @Test
  void bootAuth_urlWithPathAndTrailingSlash_joinsWithOneSlash() throws Exception {
    WebhookClient withSlash = client(Fixtures.fast(fake.url() + "/auth/"));
    WebhookClient without = client(Fixtures.fast(fake.url() + "/auth"));

    await(withSlash.bootAuth(Operation.KMS, Fixtures.boot()));
    await(without.bootAuth(Operation.KMS, Fixtures.boot()));

    assertThat(fake.kmsRequests)
        .extracting(FakeWebhook.Recorded::uri)
        .containsExactly("/auth/bootAuth/kms", "/auth/bootAuth/kms");
  }

  @Test
  void info_getsTheUrlItself_withNoPathAppended() throws Exception {
    await(client(Fixtures.fast(fake.url())).info());
    await(client(Fixtures.fast(fake.url() + "/meta")).info());

    assertThat(fake.infoRequests).extracting(FakeWebhook.Recorded::method).containsOnly("GET");
    assertThat(fake.infoRequests)
        .extracting(FakeWebhook.Recorded::uri)
        .containsExactly("/", "/meta");
  }

  @Test
  void responsesMissingAKey_failClosedAsDecodeErrors() throws Exception {
    WebhookClient c = client(Fixtures.fast(fake.url()));
    fake.app = FakeWebhook.json(200, "{\"isAllowed\":true,\"reason\":\"\"}");
    fake.info = FakeWebhook.json(200, "{\"status\":\"ok\",\"kmsContractAddr\":\"a\"}");

    Throwable app = awaitFailure(c.bootAuth(Operation.APP, Fixtures.boot()));
    Throwable info = awaitFailure(c.info());

    assertThat(app).isInstanceOf(WebhookException.class).hasMessageContaining("\"gatewayAppId\"");
    assertThat(((WebhookException) app).outcome()).isEqualTo(Outcome.DECODE);
    assertThat(info).hasMessageContaining("missing key \"gatewayAppId\"");
    assertThat(fake.infoRequests).hasSize(1); // a decode error is not retried
  }

  // ---- every fault fails closed within the deadline ----

  static Stream<Arguments> faults() {
    return Stream.of(
        Arguments.of(
            "500",
            (Function<FakeWebhook, Behaviour>) f -> FakeWebhook.status(500),
            Outcome.SERVER_ERROR),
        Arguments.of(
            "404",
            (Function<FakeWebhook, Behaviour>) f -> FakeWebhook.status(404),
            Outcome.CLIENT_ERROR),
        Arguments.of(
            "429",
            (Function<FakeWebhook, Behaviour>) f -> FakeWebhook.throttled(null),
            Outcome.THROTTLED),
        Arguments.of(
            "429+Retry-After",
            (Function<FakeWebhook, Behaviour>) f -> FakeWebhook.throttled("1"),
            Outcome.THROTTLED),
        Arguments.of(
            "hang", (Function<FakeWebhook, Behaviour>) f -> FakeWebhook.hang(), Outcome.TIMEOUT),
        Arguments.of(
            "slow",
            (Function<FakeWebhook, Behaviour>)
                f -> f.slow(2_000, FakeWebhook.json(200, FakeWebhook.ALLOW)),
            Outcome.TIMEOUT),
        Arguments.of(
            "trickle",
            (Function<FakeWebhook, Behaviour>) f -> FakeWebhook.trickle(),
            Outcome.TIMEOUT),
        Arguments.of(
            "reset", (Function<FakeWebhook, Behaviour>) f -> FakeWebhook.reset(), Outcome.ERROR),
        Arguments.of(
            "garbage",
            (Function<FakeWebhook, Behaviour>) f -> FakeWebhook.garbage(),
            Outcome.DECODE),
        Arguments.of(
            "missing key",
            (Function<FakeWebhook, Behaviour>) f -> FakeWebhook.json(200, "{\"isAllowed\":true}"),
            Outcome.DECODE),
        Arguments.of(
            "oversized",
            (Function<FakeWebhook, Behaviour>) f -> FakeWebhook.oversized(100_000, false),
            Outcome.DECODE),
        Arguments.of(
            "oversized chunked",
            (Function<FakeWebhook, Behaviour>) f -> FakeWebhook.oversized(100_000, true),
            Outcome.DECODE));
  }

  @ParameterizedTest(name = "POST {0}")
  @MethodSource("faults")
  void decisionFault_failsClosedWithinTheDeadline(
      String name, Function<FakeWebhook, Behaviour> fault, Outcome expected) throws Exception {
    AuthApiConfig.Webhook s = Fixtures.fast(fake.url());
    WebhookClient c = client(s);
    fake.app = fault.apply(fake);

    long start = System.nanoTime();
    Throwable e = awaitFailure(c.bootAuth(Operation.APP, Fixtures.boot()));
    long took = millisSince(start);

    assertThat(e).isInstanceOf(WebhookException.class);
    assertThat(((WebhookException) e).outcome()).as(e.getMessage()).isEqualTo(expected);
    assertThat(e.getMessage()).contains(fake.url());
    assertThat(took).isLessThan(s.client().deadline().plus(Fixtures.SLACK).toMillis());
    assertThat(fake.appRequests).hasSize(1); // decisions are never retried
  }

  @ParameterizedTest(name = "GET {0}")
  @MethodSource("faults")
  void infoFault_failsClosedWithinTheDeadline_retriesIncluded(
      String name, Function<FakeWebhook, Behaviour> fault, Outcome expected) throws Exception {
    AuthApiConfig.Webhook s = Fixtures.fast(fake.url());
    WebhookClient c = client(s);
    fake.info = fault.apply(fake);

    long start = System.nanoTime();
    Throwable e = awaitFailure(c.info());
    long took = millisSince(start);

    assertThat(((WebhookException) e).outcome()).as(e.getMessage()).isEqualTo(expected);
    assertThat(took).isLessThan(s.client().deadline().plus(Fixtures.SLACK).toMillis());
    assertThat(fake.infoRequests).hasSizeBetween(1, 1 + s.client().maxRetries());
  }

  @Test
  void oversizedBody_isCutOffAtTheCap_andTheConnectionIsClosed() throws Exception {
    WebhookClient c = client(Fixtures.fast(fake.url()));
    fake.app = FakeWebhook.oversized(2_000_000, true);

    Throwable e = awaitFailure(c.bootAuth(Operation.APP, Fixtures.boot()));

    assertThat(e).hasMessageContaining("response exceeds 4096 bytes");
    long deadline = System.nanoTime() + 2_000_000_000L;
    while (fake.connectionsActive.get() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(fake.connectionsActive.get()).isZero();
  }

  // ---- retries ----

  @Test
  void get_isRetriedAtMostMaxRetriesTimes_withinTheDeadline() throws Exception {
    // A deadline far beyond three quick attempts: the retry count, not machine speed, decides.
    AuthApiConfig.Webhook s = Fixtures.settings(fake.url(), 300, 300, 20_000, 10, 300);
    WebhookClient c = client(s);
    fake.info = FakeWebhook.status(503);

    long start = System.nanoTime();
    Throwable e = awaitFailure(c.info());

    assertThat(millisSince(start)).isLessThan(s.client().deadline().toMillis());
    assertThat(fake.infoRequests).hasSize(1 + s.client().maxRetries());
    assertThat(e).hasMessageContaining("returned 503").hasMessageContaining("after 3 attempts");
    assertThat(registry.counter("kms.auth.webhook.retries", "operation", "info").count())
        .isEqualTo(2.0);
  }

  @Test
  void get_recoversOnRetry() throws Exception {
    WebhookClient c = client(Fixtures.settings(fake.url(), 300, 300, 20_000, 10, 300));
    fake.info =
        FakeWebhook.sequence(
            FakeWebhook.status(502),
            FakeWebhook.reset(),
            FakeWebhook.json(200, FakeWebhook.INFO_OK));

    AuthInfo info = await(c.info());

    assertThat(info.chainId()).contains(31337L);
    assertThat(fake.infoRequests).hasSize(3);
  }

  @Test
  void post_isNeverRetried() throws Exception {
    WebhookClient c = client(Fixtures.settings(fake.url(), 300, 300, 2_000, 10, 300));
    fake.kms = FakeWebhook.status(503);

    awaitFailure(c.bootAuth(Operation.KMS, Fixtures.boot()));

    assertThat(fake.kmsRequests).hasSize(1);
  }

  @Test
  void get_honoursRetryAfter() throws Exception {
    WebhookClient c = client(Fixtures.settings(fake.url(), 500, 500, 3_000, 10, 300));
    fake.info =
        FakeWebhook.sequence(
            FakeWebhook.throttled("1"), FakeWebhook.json(200, FakeWebhook.INFO_OK));

    await(c.info());

    assertThat(fake.infoRequests).hasSize(2);
    assertThat(FakeWebhook.millisBetween(fake.infoRequests.get(0), fake.infoRequests.get(1)))
        .isGreaterThanOrEqualTo(950);
  }

  @Test
  void get_retryAfterBeyondTheDeadline_failsAtOnceInsteadOfWaiting() throws Exception {
    // Retry-After 30 s is past the 20 s deadline: failing at once takes far less than the 10 s
    // this allows, waiting would take the full deadline.
    WebhookClient c = client(Fixtures.settings(fake.url(), 300, 300, 20_000, 10, 300));
    fake.info = FakeWebhook.throttled("30");

    long start = System.nanoTime();
    Throwable e = awaitFailure(c.info());

    assertThat(millisSince(start)).isLessThan(10_000);
    assertThat(e).hasMessageContaining("returned 429");
    assertThat(fake.infoRequests).hasSize(1);
  }

  // ---- circuit breaker ----

  @Test
  void breaker_opensAfterNConsecutiveFailures_failsFastWithoutCalling_thenProbes()
      throws Exception {
    WebhookClient c = client(Fixtures.settings(fake.url(), 300, 300, 800, 3, 300));
    fake.app = FakeWebhook.status(500);

    for (int i = 0; i < 3; i++) {
      assertThat(
              ((WebhookException) awaitFailure(c.bootAuth(Operation.APP, Fixtures.boot())))
                  .outcome())
          .isEqualTo(Outcome.SERVER_ERROR);
    }
    assertThat(c.breakerState())
        .isEqualTo(io.github.resilience4j.circuitbreaker.CircuitBreaker.State.OPEN);
    assertThat(registry.get("kms.auth.webhook.breaker.state").gauge().value()).isEqualTo(2.0);

    // Failing fast is checked by cause: no request reaches the webhook while the circuit is open.
    Throwable open = awaitFailure(c.bootAuth(Operation.APP, Fixtures.boot()));
    assertThat(open).hasMessageStartingWith("auth api circuit open");
    assertThat(((WebhookException) open).outcome()).isEqualTo(Outcome.OPEN);
    assertThat(awaitFailure(c.info())).hasMessageStartingWith("auth api circuit open");
    assertThat(fake.appRequests).hasSize(3);
    assertThat(fake.infoRequests).isEmpty();

    fake.app = FakeWebhook.json(200, FakeWebhook.ALLOW);
    Thread.sleep(350);
    assertThat(await(c.bootAuth(Operation.APP, Fixtures.boot())).isAllowed()).isTrue();
    assertThat(c.breakerState())
        .isEqualTo(io.github.resilience4j.circuitbreaker.CircuitBreaker.State.CLOSED);
    assertThat(registry.get("kms.auth.webhook.breaker.state").gauge().value()).isEqualTo(0.0);
    assertThat(
            registry
                .get("kms.auth.webhook.calls")
                .tags("operation", "app", "outcome", "open")
                .timer()
                .count())
        .isEqualTo(1);
  }

  @Test
  void breaker_halfOpen_letsOneProbeThrough_andReopensWhenItFails() throws Exception {
    // A 5 s attempt timeout keeps the hanging probe in flight while the state is checked, however
    // slow the machine.
    WebhookClient c = client(Fixtures.settings(fake.url(), 300, 5_000, 6_000, 2, 300));
    fake.app = FakeWebhook.status(500);
    awaitFailure(c.bootAuth(Operation.APP, Fixtures.boot()));
    awaitFailure(c.bootAuth(Operation.APP, Fixtures.boot()));
    assertThat(c.breakerState())
        .isEqualTo(io.github.resilience4j.circuitbreaker.CircuitBreaker.State.OPEN);

    Thread.sleep(350); // past the 300 ms reset: a sleep lasts at least this long
    fake.app = FakeWebhook.hang();
    Future<BootDecision> probe = c.bootAuth(Operation.APP, Fixtures.boot());
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(4))
        .until(() -> fake.appRequests.size() == 3);
    assertThat(c.breakerState())
        .isEqualTo(io.github.resilience4j.circuitbreaker.CircuitBreaker.State.HALF_OPEN);
    Throwable second = awaitFailure(c.bootAuth(Operation.APP, Fixtures.boot()));

    assertThat(second).hasMessageStartingWith("auth api circuit open");
    assertThat(((WebhookException) awaitFailure(probe)).outcome()).isEqualTo(Outcome.TIMEOUT);
    assertThat(c.breakerState())
        .isEqualTo(io.github.resilience4j.circuitbreaker.CircuitBreaker.State.OPEN);
    assertThat(fake.appRequests).hasSize(3);
  }

  @Test
  void breaker_openingDuringOwnRetries_reportsTheRealError() throws Exception {
    WebhookClient c = client(Fixtures.settings(fake.url(), 300, 300, 2_000, 2, 300));
    fake.info = FakeWebhook.status(503);

    Throwable e = awaitFailure(c.info());

    assertThat(e).hasMessageContaining("returned 503").hasMessageEndingWith("(after 2 attempts)");
    assertThat(e).hasMessageNotContaining("circuit open");
    assertThat(fake.infoRequests).hasSize(2);
    assertThat(c.breakerState())
        .isEqualTo(io.github.resilience4j.circuitbreaker.CircuitBreaker.State.OPEN);
  }

  @Test
  void breaker_clientErrorsAndDenialsDoNotOpenIt() throws Exception {
    WebhookClient c = client(Fixtures.settings(fake.url(), 300, 300, 800, 2, 300));
    fake.app = FakeWebhook.status(400);
    for (int i = 0; i < 4; i++) {
      awaitFailure(c.bootAuth(Operation.APP, Fixtures.boot()));
    }
    fake.app =
        FakeWebhook.json(200, "{\"isAllowed\":false,\"gatewayAppId\":\"\",\"reason\":\"no\"}");
    for (int i = 0; i < 4; i++) {
      assertThat(await(c.bootAuth(Operation.APP, Fixtures.boot())).isAllowed()).isFalse();
    }
    assertThat(c.breakerState())
        .isEqualTo(io.github.resilience4j.circuitbreaker.CircuitBreaker.State.CLOSED);
    assertThat(fake.appRequests).hasSize(8);
  }

  // ---- secrets ----

  @Test
  void aUrlWithCredentialsOrQuery_isRefused_withoutEchoingThem() {
    // The one settings record refuses secrets in the URL (they would end up in logs and ps).
    for (String url :
        List.of(
            "http://alice:s3cret@127.0.0.1:" + fake.port() + "/hook",
            "http://127.0.0.1:" + fake.port() + "/hook?token=t0ken")) {
      assertThatThrownBy(() -> Fixtures.settings(url, 300, 300, 800, 10, 300))
          .hasMessageStartingWith("core.auth_api.webhook.url must not")
          .hasMessageNotContaining("s3cret")
          .hasMessageNotContaining("t0ken");
    }
  }

  @Test
  void errors_showOnlyTheRedactedUrl_andCarryNoCause() throws Exception {
    String url = "http://127.0.0.1:" + fake.port() + "/hook";
    WebhookClient c = client(Fixtures.settings(url, 300, 300, 800, 10, 300));
    fake.app = FakeWebhook.status(503);
    fake.info = FakeWebhook.hang();

    Throwable status = awaitFailure(c.bootAuth(Operation.APP, Fixtures.boot()));
    Throwable timeout = awaitFailure(c.info());

    assertThat(status.getMessage()).startsWith("auth api " + url + " returned 503");
    assertThat(timeout.getMessage()).contains(url + " timed out after");
    for (Throwable t : List.of(status, timeout)) {
      assertThat(t.getCause()).isNull();
    }
    assertThat(fake.appRequests.get(0).uri()).isEqualTo("/hook/bootAuth/app");
  }

  @Test
  void errorBody_isQuotedOnlyAsAShortUtf8SafeExcerpt() throws Exception {
    WebhookClient c = client(Fixtures.fast(fake.url()));
    String body = "x".repeat(159) + "€" + "y".repeat(1000);
    fake.app = (req, b) -> req.response().setStatusCode(500).end(body);

    Throwable e = awaitFailure(c.bootAuth(Operation.APP, Fixtures.boot()));

    assertThat(e.getMessage()).endsWith("x".repeat(159) + "...").doesNotContain("\uFFFD", "y");
  }

  // ---- one client, bounded pool ----

  @Test
  void fiftyConcurrentCalls_toASlowServer_useNoMoreConnectionsThanThePool() throws Exception {
    AuthApiConfig.Webhook s = Fixtures.settings(fake.url(), 3_000, 3_000, 4_000, 10, 300);
    WebhookClient c = client(s);
    fake.app = fake.slow(100, FakeWebhook.json(200, FakeWebhook.ALLOW));

    List<Future<BootDecision>> calls = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      calls.add(c.bootAuth(Operation.APP, Fixtures.boot()));
    }
    for (Future<BootDecision> f : calls) {
      assertThat(await(f).isAllowed()).isTrue();
    }

    assertThat(fake.appRequests).hasSize(50);
    assertThat(fake.connectionsOpened.get()).isLessThanOrEqualTo(s.client().maxConnections());
    assertThat(fake.connectionsMaxActive.get()).isLessThanOrEqualTo(s.client().maxConnections());
  }

  @Test
  void aFullWaitQueue_refusesAtOnce_withoutTrippingTheBreaker() throws Exception {
    // 1 connection, so the wait queue holds 32: of 40 calls, 1 is in flight, 32 wait, 7 are
    // refused.
    AuthApiConfig.Webhook s =
        Fixtures.webhook(
            fake.url(),
            new OutboundClientConfig(
                OutboundClientConfig.WEBHOOK,
                Duration.ofSeconds(3),
                Duration.ofSeconds(3),
                Duration.ofSeconds(4),
                1,
                4096,
                0,
                3,
                Duration.ofSeconds(1)));
    WebhookClient c = client(s);
    fake.app = fake.slow(30, FakeWebhook.json(200, FakeWebhook.ALLOW));

    List<Future<BootDecision>> calls = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      calls.add(c.bootAuth(Operation.APP, Fixtures.boot()));
    }
    int ok = 0;
    int refused = 0;
    for (Future<BootDecision> f : calls) {
      try {
        await(f);
        ok++;
      } catch (Exception e) {
        assertThat(e.getCause()).hasMessageContaining("connection pool queue is full");
        refused++;
      }
    }

    // Vert.x counts the caller whose connection is being opened as waiting, so 7 or 8.
    assertThat(refused).isBetween(7, 8);
    assertThat(ok + refused).isEqualTo(40);
    assertThat(c.breakerState())
        .isEqualTo(io.github.resilience4j.circuitbreaker.CircuitBreaker.State.CLOSED);
    assertThat(fake.connectionsOpened.get()).isEqualTo(1);
  }

  @Test
  void aWebhookThatIsNotListening_failsFastAsAnError() throws Exception {
    int port;
    try (java.net.ServerSocket probe =
        new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = probe.getLocalPort(); // closed again at once: nothing listens there now
    }
    String url = "http://127.0.0.1:" + port;
    // Timeouts of 10 s and more: failing well before them means the refusal was not waited out.
    WebhookClient c = client(Fixtures.settings(url, 10_000, 10_000, 20_000, 3, 300));

    long start = System.nanoTime();
    Throwable e = awaitFailure(c.bootAuth(Operation.KMS, Fixtures.boot()));

    assertThat(millisSince(start)).isLessThan(5_000);
    assertThat(((WebhookException) e).outcome()).isEqualTo(Outcome.ERROR);
    assertThat(e).hasMessage("auth api " + url + " request failed: connection refused");
  }

  // ---- metrics ----

  @Test
  void metrics_recordLatencyByOperationAndOutcome() throws Exception {
    WebhookClient c = client(Fixtures.settings(fake.url(), 300, 300, 800, 10, 300));
    await(c.info());
    await(c.bootAuth(Operation.KMS, Fixtures.boot()));
    fake.app = FakeWebhook.throttled(null);
    awaitFailure(c.bootAuth(Operation.APP, Fixtures.boot()));
    fake.app = FakeWebhook.hang();
    awaitFailure(c.bootAuth(Operation.APP, Fixtures.boot()));

    assertThat(timerCount("info", "ok")).isEqualTo(1);
    assertThat(timerCount("kms", "ok")).isEqualTo(1);
    assertThat(timerCount("app", "429")).isEqualTo(1);
    assertThat(timerCount("app", "timeout")).isEqualTo(1);
    assertThat(
            registry
                .get("kms.auth.webhook.calls")
                .tags("operation", "app", "outcome", "timeout")
                .timer()
                .totalTime(java.util.concurrent.TimeUnit.MILLISECONDS))
        .isGreaterThanOrEqualTo((double) Duration.ofMillis(290).toMillis());
  }

  private long timerCount(String op, String outcome) {
    return registry
        .get("kms.auth.webhook.calls")
        .tags("operation", op, "outcome", outcome)
        .timer()
        .count();
  }
}
