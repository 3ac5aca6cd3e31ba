package dev.cvmkms.autheth.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cvmkms.autheth.testing.Anvil;
import dev.cvmkms.autheth.testing.AuthEthJar;
import dev.cvmkms.autheth.testing.BlockedThreadWarnings;
import dev.cvmkms.autheth.testing.ChainFixture;
import dev.cvmkms.autheth.testing.FaultProxy;
import dev.cvmkms.autheth.testing.FaultProxy.Mode;
import dev.cvmkms.autheth.testing.Http;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * auth-eth behind a fault-injecting proxy in front of anvil: the provider throttles, hangs, is
 * slow, resets connections or answers garbage. GET / must keep answering from cache, bootAuth must
 * fail closed within its deadline, the outbound rate must stay under the token bucket and the API
 * key (a canary) must never show up in anything auth-eth emits.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FaultProxyIT {
  static final String CANARY = "CANARY-" + UUID.randomUUID();
  static final double RATE = 10;
  static final int BURST = 5;
  static final long DEADLINE_MS = 2000;

  static Anvil anvil;
  static ChainFixture chain;
  static FaultProxy proxy;
  static AuthEthJar.Server server;
  static final ConcurrentLinkedQueue<String> responses = new ConcurrentLinkedQueue<>();
  static final HttpClient http =
      HttpClient.newBuilder()
          .connectTimeout(Duration.ofSeconds(2))
          .version(HttpClient.Version.HTTP_1_1)
          .build();

  @BeforeAll
  static void up() throws Exception {
    anvil = Anvil.start();
    chain = ChainFixture.deploy(anvil);
    proxy = FaultProxy.start(anvil.url());
    server =
        AuthEthJar.Server.start(
            Map.ofEntries(
                Map.entry("ETH_RPC_URL", proxy.url() + "/v2/{apiKey}"),
                Map.entry("ETH_RPC_API_KEY", CANARY),
                Map.entry("KMS_CONTRACT_ADDR", chain.kms()),
                Map.entry("ETH_RPC_RATE_PER_SEC", String.valueOf(RATE)),
                Map.entry("ETH_RPC_BURST", String.valueOf(BURST)),
                Map.entry("ETH_RPC_DEADLINE_MS", String.valueOf(DEADLINE_MS)),
                Map.entry("ETH_RPC_ATTEMPT_TIMEOUT_MS", "500"),
                Map.entry("ETH_RPC_CONNECT_TIMEOUT_MS", "500"),
                Map.entry("ETH_RPC_BREAKER_RESET_MS", "1500"),
                Map.entry("METADATA_REFRESH_MS", "1000"),
                Map.entry("METADATA_RETRY_MS", "200"),
                // The flood below opens 200 connections from one address: this test is about the
                // outbound budget, so the inbound per-address cap (128 by default) is raised.
                Map.entry("HTTP_MAX_CONNECTIONS_PER_ADDRESS", "1000"),
                // Loudest logging we ship: the canary must stay out even at DEBUG.
                Map.entry("AUTH_ETH_LOG_LEVEL", "DEBUG")));
  }

  @AfterAll
  static void down() throws Exception {
    try {
      if (server != null) {
        server.close();
      }
    } finally {
      try {
        if (proxy != null) {
          proxy.close();
        }
      } finally {
        if (anvil != null) {
          anvil.close();
        }
      }
    }
  }

  record Timed(int status, String body, long millis) {}

  static CompletableFuture<Timed> send(HttpRequest req) {
    long start = System.nanoTime();
    return http.sendAsync(req, HttpResponse.BodyHandlers.ofString())
        .thenApply(
            r -> {
              responses.add(r.body());
              return new Timed(r.statusCode(), r.body(), (System.nanoTime() - start) / 1_000_000);
            });
  }

  static HttpRequest getRoot() {
    return HttpRequest.newBuilder(URI.create(server.url() + "/"))
        .timeout(Duration.ofSeconds(10))
        .build();
  }

  static HttpRequest boot(JsonObject body) {
    return HttpRequest.newBuilder(URI.create(server.url() + "/bootAuth/app"))
        .timeout(Duration.ofSeconds(10))
        .header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body.encode()))
        .build();
  }

  static List<Timed> all(List<CompletableFuture<Timed>> fs) {
    return fs.stream().map(CompletableFuture::join).toList();
  }

  /** Waits (bounded) until the provider path works again after a fault. */
  static void awaitRecovery() throws Exception {
    long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < until) {
      Timed t = send(boot(chain.bootInfo())).join();
      if (new JsonObject(t.body()).getBoolean("isAllowed")) {
        return;
      }
      Thread.sleep(250);
    }
    throw new AssertionError("did not recover after the fault ended");
  }

  /** Over every window, calls that reached the provider stay within burst + rate * window. */
  static void assertUnderBucket(List<Long> arrivals) {
    List<Long> sorted = new ArrayList<>(arrivals);
    sorted.sort(Long::compare);
    for (long windowMs : new long[] {500, 1000, 3000}) {
      long window = windowMs * 1_000_000;
      int j = 0;
      for (int i = 0; i < sorted.size(); i++) {
        while (sorted.get(i) - sorted.get(j) >= window) {
          j++;
        }
        // +2: proxy-side arrival times carry scheduling jitter of a few ms.
        assertThat(i - j + 1)
            .as("calls within %d ms", windowMs)
            .isLessThanOrEqualTo((int) (BURST + RATE * windowMs / 1000) + 2);
      }
    }
  }

  @Test
  @Order(1)
  void healthyBaseline() throws Exception {
    awaitRecovery();
    Timed root = send(getRoot()).join();
    assertThat(root.status()).isEqualTo(200);
    assertThat(new JsonObject(root.body()).getString("ethRpcUrl")).isEqualTo(proxy.url());
    // The key went where it was configured to go: into the provider URL.
    assertThat(proxy.requestLines()).anyMatch(l -> l.startsWith("/v2/" + CANARY + " "));
  }

  static List<Arguments> faults() {
    return List.of(
        Arguments.of(Mode.THROTTLE, null),
        Arguments.of(Mode.THROTTLE, "1"),
        Arguments.of(Mode.HANG, null),
        Arguments.of(Mode.SLOW, null),
        Arguments.of(Mode.RESET, null),
        Arguments.of(Mode.GARBAGE, null),
        Arguments.of(Mode.SERVER_ERROR, null));
  }

  @ParameterizedTest(name = "{0} retryAfter={1}")
  @MethodSource("faults")
  @Order(2)
  void servesFromCacheAndFailsClosedWithinTheDeadline(Mode mode, String retryAfter)
      throws Exception {
    awaitRecovery();
    proxy.retryAfter(retryAfter).slowMillis(3000).mode(mode);
    proxy.resetCounts();
    long phaseStart = System.nanoTime();

    // bootAuth: 10 concurrent unique requests, all fail closed, none past the deadline.
    List<CompletableFuture<Timed>> boots = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      boots.add(send(boot(chain.bootInfo().put("instanceId", String.format("%040x", i + 1)))));
    }
    // GET / meanwhile: answered from the cache, fast.
    List<Timed> roots = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      roots.add(send(getRoot()).join());
    }
    for (Timed t : all(boots)) {
      assertThat(t.status()).isEqualTo(200);
      assertThat(t.body())
          .isEqualTo(
              "{\"isAllowed\":false,\"reason\":\"authorization backend unavailable\",\"gatewayAppId\":\"\"}");
      assertThat(t.millis()).isLessThan(DEADLINE_MS + 3000);
    }
    Thread.sleep(1500); // let a metadata refresh fail against the faulty provider
    roots.add(send(getRoot()).join());
    for (Timed t : roots) {
      assertThat(t.status()).isEqualTo(200);
      assertThat(new JsonObject(t.body()).getString("gatewayAppId"))
          .isEqualTo(ChainFixture.GATEWAY_APP_ID);
    }
    // GET / must not wait on the provider: one that did would take the 2 s deadline (the fault
    // holds every call at least that long). The bounds sit well below it, and well above what a
    // loaded 2-core machine adds to a cache hit.
    List<Long> latencies = roots.stream().map(Timed::millis).sorted().toList();
    assertThat(latencies.get(latencies.size() / 2))
        .as("median GET / ms")
        .isLessThan(DEADLINE_MS / 4);
    assertThat(latencies.get(latencies.size() - 2)).as("p98 GET / ms").isLessThan(DEADLINE_MS / 2);
    assertThat(new JsonObject(roots.get(roots.size() - 1).body()).getLong("metadataAgeMs"))
        .isGreaterThan(1000);
    String metrics = Http.get(server.url() + "/metrics").body();
    responses.add(metrics);
    assertThat(metrics).contains("autheth_metadata_age_seconds");

    // The provider saw a bounded number of calls, never above the bucket.
    double seconds = (System.nanoTime() - phaseStart) / 1e9;
    assertThat(proxy.totalCalls()).isLessThanOrEqualTo((long) (BURST + RATE * seconds) + 2);
    assertUnderBucket(proxy.arrivals());

    proxy.mode(Mode.PASS);
    awaitRecovery();
  }

  @Test
  @Order(3)
  void inboundFloodNeverPushesTheProviderPastTheBucket() throws Exception {
    awaitRecovery();
    proxy.mode(Mode.PASS);
    proxy.resetCounts();
    long floodStart = System.nanoTime();
    List<CompletableFuture<Timed>> boots = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      boots.add(send(boot(chain.bootInfo().put("instanceId", String.format("%040x", 1000 + i)))));
    }
    List<Timed> results = all(boots);
    double floodSeconds = (System.nanoTime() - floodStart) / 1e9;
    long allowed =
        results.stream().filter(t -> new JsonObject(t.body()).getBoolean("isAllowed")).count();
    long closed =
        results.stream()
            .filter(t -> t.body().contains("authorization backend unavailable"))
            .count();
    assertThat(allowed + closed).isEqualTo(200);
    // The bucket's bound over the time the flood actually took (a slow machine takes longer and
    // earns more tokens; the bound follows instead of assuming a duration).
    assertThat(allowed).isBetween((long) BURST, (long) (BURST + RATE * floodSeconds) + 2);
    assertThat(results).allMatch(t -> t.millis() < DEADLINE_MS + 3000);
    assertUnderBucket(proxy.arrivals());
  }

  @Test
  @Order(4)
  void canaryKeyAppearsNowhere() throws Exception {
    responses.add(Http.get(server.url() + "/metrics").body());
    responses.add(Http.get(server.url() + "/").body());
    assertThat(responses).isNotEmpty().noneMatch(r -> r.contains(CANARY));
    assertThat(server.stdout()).doesNotContain(CANARY);
    String stderr = server.stderr();
    assertThat(stderr).contains("DEBUG").doesNotContain(CANARY).doesNotContain("/v2/");
    assertThat(BlockedThreadWarnings.blocking(stderr))
        .as("Vert.x blocked-thread checker")
        .isEmpty();
    assertThat(server.isAlive()).isTrue();
  }
}
