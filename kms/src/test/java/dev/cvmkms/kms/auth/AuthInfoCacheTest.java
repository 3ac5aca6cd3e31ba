package dev.cvmkms.kms.auth;

import static dev.cvmkms.kms.auth.FakeWebhook.Async.await;
import static dev.cvmkms.kms.auth.FakeWebhook.Async.awaitFailure;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.cvmkms.kms.KmsException;
import dev.cvmkms.kms.config.AuthApiConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class AuthInfoCacheTest {
  private TestVertx testVertx;
  private Vertx vertx;
  private FakeWebhook fake;
  private SimpleMeterRegistry registry;
  private WebhookClient client;
  private AuthInfoCache cache;

  @BeforeEach
  void setUp() throws Exception {
    testVertx = new TestVertx();
    vertx = testVertx.vertx;
    fake = FakeWebhook.start(vertx);
    registry = new SimpleMeterRegistry();
  }

  @AfterEach
  void tearDown() throws Exception {
    if (cache != null) {
      cache.close();
    }
    if (client != null) {
      await(client.close());
    }
    fake.close();
    testVertx.closeAndAssertNeverBlocked();
  }

  /** A cache over the real client and the fake webhook (refresh 200 ms unless said otherwise). */
  private AuthInfoCache webhookCache(AuthApiConfig.Webhook s) {
    client = new WebhookClient(vertx, s, registry, "test");
    cache =
        new AuthInfoCache(
            vertx, client::info, Fixtures.INFO_REFRESH, Fixtures.INFO_MAX_STALE, registry);
    return cache;
  }

  private static String infoWithChain(long chainId) {
    return FakeWebhook.INFO_OK.replace("31337", Long.toString(chainId));
  }

  /**
   * Every read of a loaded value returns an already completed future and starts no load: it cannot
   * be waiting on the webhook (a structural check, so it holds however slow the machine is).
   */
  private void assertServedAtOnce(AuthInfoCache c, long chainId) throws Exception {
    double readLoads = loads("read");
    for (int i = 0; i < 20; i++) {
      Future<AuthInfo> f = c.get();
      assertThat(f.isComplete()).as("served without waiting").isTrue();
      assertThat(await(f).chainId()).contains(chainId);
    }
    assertThat(loads("read")).as("reads of a loaded value start no load").isEqualTo(readLoads);
  }

  private double loads(String reason) {
    return registry.get("kms.auth.info.loads").tag("reason", reason).counter().count();
  }

  @Test
  void thirtyConcurrentColdMisses_makeOneUpstreamGet() throws Exception {
    AuthInfoCache c = webhookCache(Fixtures.fast(fake.url()));
    fake.info = fake.slow(200, FakeWebhook.json(200, FakeWebhook.INFO_OK));

    List<Future<AuthInfo>> gets = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      gets.add(c.get());
    }
    for (Future<AuthInfo> f : gets) {
      assertThat(await(f).chainId()).contains(31337L);
    }

    assertThat(fake.infoRequests).hasSize(1);
  }

  @Test
  void loadsAreCountedByWhatCausedThem() throws Exception {
    AuthInfoCache c = webhookCache(Fixtures.fast(fake.url()));
    await(c.get()); // a read with no value: the read causes the load
    assertThat(loads("read")).isEqualTo(1.0);
    assertThat(loads("start")).isZero();

    c.start();
    await().atMost(Duration.ofSeconds(10)).until(() -> loads("refresh") >= 2);
    assertThat(loads("start")).isEqualTo(1.0);
    assertServedAtOnce(c, 31337L);
    assertThat(loads("read")).isEqualTo(1.0);
  }

  @Test
  void concurrentMissesFromEventLoops_alsoCoalesce() throws Exception {
    AuthInfoCache c = webhookCache(Fixtures.fast(fake.url()));
    fake.info = fake.slow(200, FakeWebhook.json(200, FakeWebhook.INFO_OK));
    List<Promise<AuthInfo>> results = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      Promise<AuthInfo> p = Promise.promise();
      results.add(p);
      vertx.runOnContext(v -> c.get().onComplete(p));
    }
    for (Promise<AuthInfo> p : results) {
      assertThat(await(p.future()).gatewayAppId()).contains("0xgw");
    }
    assertThat(fake.infoRequests).hasSize(1);
  }

  @Test
  void whileTheWebhookHangs_theLastGoodValueIsServedAtOnce() throws Exception {
    AuthInfoCache c = webhookCache(Fixtures.fast(fake.url()));
    c.start();
    await(c.get());
    fake.info = FakeWebhook.hang();
    int before = fake.infoRequests.size();

    // A background refresh is now hanging on the webhook.
    await().atMost(Duration.ofSeconds(10)).until(() -> fake.infoRequests.size() > before);
    assertServedAtOnce(c, 31337L);
  }

  @Test
  void whileTheWebhookThrottles_theLastGoodValueIsServedAtOnce() throws Exception {
    AuthInfoCache c = webhookCache(Fixtures.fast(fake.url()));
    c.start();
    await(c.get());
    fake.info = FakeWebhook.throttled("1");
    int before = fake.infoRequests.size();

    await().atMost(Duration.ofSeconds(10)).until(() -> fake.infoRequests.size() > before + 1);
    assertServedAtOnce(c, 31337L);
  }

  @Test
  void refreshesAheadInTheBackground_withoutAnyReads() throws Exception {
    AuthInfoCache c = webhookCache(Fixtures.fast(fake.url()));
    c.start();
    await().atMost(Duration.ofSeconds(10)).until(() -> c.age().isPresent());
    double readLoads = loads("read");
    fake.info = FakeWebhook.json(200, infoWithChain(7));

    // Reads of a loaded value start no load (counted below), so only the periodic timer can
    // fetch the new value; wait for it by its effect, not by a count of requests (one already
    // in flight at the swap may still bring the old value).
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> {
              Future<AuthInfo> f = c.get();
              return f.isComplete()
                  && f.succeeded()
                  && f.result().chainId().equals(Optional.of(7L));
            });
    assertThat(loads("read")).as("no read caused a load").isEqualTo(readLoads);
    assertThat(loads("refresh")).isGreaterThanOrEqualTo(1);

    assertServedAtOnce(c, 7L);
  }

  @Test
  void age_growsWhileRefreshesFail_andResetsOnSuccess() throws Exception {
    AuthInfoCache c = webhookCache(Fixtures.settings(fake.url(), 300, 300, 800, 100, 300));
    long beforeStart = System.nanoTime();
    c.start();
    await(c.get());
    // Bounded by the time since start (not by a fixed figure a loaded machine can exceed).
    Duration sinceStart = Duration.ofNanos(System.nanoTime() - beforeStart);
    assertThat(c.age()).hasValueSatisfying(a -> assertThat(a).isLessThanOrEqualTo(sinceStart));
    fake.info = FakeWebhook.status(500);
    long failingFrom = System.nanoTime();

    // A refresh failed, and the value is older than that failure: it is the old one, still served.
    await().atMost(Duration.ofSeconds(10)).until(() -> c.lastError().isPresent());
    Thread.sleep(700); // the value can only get older while every refresh answers 500
    Duration failingFor = Duration.ofNanos(System.nanoTime() - failingFrom);
    assertThat(c.age()).hasValueSatisfying(a -> assertThat(a).isGreaterThanOrEqualTo(failingFor));
    assertThat(registry.get("kms.auth.info.age").gauge().value()).isGreaterThan(0.6);
    assertServedAtOnce(c, 31337L);
    assertThat(c.lastError()).hasValueSatisfying(e -> assertThat(e).contains("returned 500"));

    fake.info = FakeWebhook.json(200, FakeWebhook.INFO_OK);
    long healthyFrom = System.nanoTime();
    // Reset: the value served is younger than the webhook's recovery, so it was fetched after it.
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                c.age().orElseThrow().compareTo(Duration.ofNanos(System.nanoTime() - healthyFrom))
                    < 0);
    assertThat(c.lastError()).isEmpty();
  }

  @Test
  void beforeTheFirstValue_aHangingWebhookFailsWithinTheDeadline() throws Exception {
    AuthApiConfig.Webhook s = Fixtures.fast(fake.url());
    AuthInfoCache c = webhookCache(s);
    fake.info = FakeWebhook.hang();

    long start = System.nanoTime();
    Throwable e = awaitFailure(c.get());

    assertThat(Duration.ofNanos(System.nanoTime() - start))
        .isLessThan(s.client().deadline().plus(Fixtures.SLACK));
    assertThat(loads("read")).as("the read caused the one load").isEqualTo(1.0);
    assertThat(e).isInstanceOf(KmsException.class);
    assertThat(((KmsException) e).kind()).isEqualTo(KmsException.Kind.UPSTREAM_UNAVAILABLE);
    assertThat(e.getMessage())
        .startsWith("auth api metadata not available yet: auth api " + fake.url())
        .contains("timed out");
    assertThat(c.age()).isEmpty();
    assertThat(registry.get("kms.auth.info.age").gauge().value()).isNaN();
  }

  @Test
  void failingRefreshes_doNotHammerTheWebhook_andReadsAddNoCalls() throws Exception {
    // breaker: 3 failures, 300 ms reset; refresh every 200 ms; up to 2 retries per refresh.
    AuthInfoCache c = webhookCache(Fixtures.fast(fake.url()));
    c.start();
    await(c.get());
    fake.info = FakeWebhook.status(503);
    int before = fake.infoRequests.size();
    double refreshesBefore = loads("refresh");

    for (int i = 0; i < 100; i++) {
      assertThat(await(c.get()).chainId()).contains(31337L);
      Thread.sleep(10);
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> fake.infoRequests.size() > before);

    // Counted by cause, not by a time window: reads started no load, and once 3 failed attempts
    // opened the breaker each scheduled refresh made at most one call (its probe; the retries are
    // refused), never anything per read. Without the breaker it would be 3 per refresh. The one
    // extra is a refresh that may start between the two "before" reads.
    assertThat(loads("read")).as("100 reads of a loaded value started no load").isZero();
    double refreshes = loads("refresh") - refreshesBefore;
    assertThat((double) fake.infoRequests.size() - before).isLessThanOrEqualTo(3 + refreshes + 1);
  }

  // ---- staleness bound, with a controlled clock and an in-memory loader ----

  @Test
  void aValueOlderThanMaxStale_isDropped_andGetFails() throws Exception {
    AtomicLong now = new AtomicLong(0);
    AtomicReference<Future<AuthInfo>> next =
        new AtomicReference<>(Future.succeededFuture(AuthInfo.dev("gw")));
    AtomicInteger loads = new AtomicInteger();
    AuthInfoCache c =
        new AuthInfoCache(
            vertx,
            () -> {
              loads.incrementAndGet();
              return next.get();
            },
            Duration.ofHours(1), // no timer tick during the test
            Duration.ofSeconds(60),
            registry,
            now::get);
    cache = c;

    assertThat(await(c.get()).gatewayAppId()).contains("gw");
    next.set(
        Future.failedFuture(
            new WebhookException(WebhookException.Outcome.TIMEOUT, "auth api down")));

    now.set(Duration.ofSeconds(59).toNanos());
    assertThat(await(c.get()).gatewayAppId()).contains("gw");
    assertThat(c.age()).contains(Duration.ofSeconds(59));
    assertThat(loads).hasValue(1);

    now.set(Duration.ofSeconds(61).toNanos());
    assertThat(c.age()).isEmpty();
    Throwable e = awaitFailure(c.get());
    assertThat(e)
        .hasMessage("auth api metadata expired (no successful refresh for PT1M): auth api down");
    assertThat(loads).hasValue(2);

    next.set(Future.succeededFuture(AuthInfo.dev("gw2")));
    assertThat(await(c.get()).gatewayAppId()).isEqualTo(Optional.of("gw2"));
  }
}
