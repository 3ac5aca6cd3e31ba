package dev.cvmkms.autheth.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cvmkms.autheth.chain.KmsContract;
import dev.cvmkms.autheth.chain.RpcException;
import dev.cvmkms.autheth.config.Finality;
import dev.cvmkms.autheth.policy.DecisionService;
import dev.cvmkms.autheth.policy.Metadata;
import dev.cvmkms.autheth.policy.MetadataCache;
import dev.cvmkms.autheth.policy.Scheduler;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The HTTP edge over an in-memory chain: GET / caching rules as seen by a client. */
class RoutesTest {
  static final String BACKEND =
      "{\"status\":\"error\",\"message\":\"authorization backend unavailable\"}";
  final Vertx vertx = Vertx.vertx();
  final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  final AtomicBoolean chainUp = new AtomicBoolean(false);
  final AtomicInteger loads = new AtomicInteger();

  /** Loads that a timer did not start: what a read of GET / caused. */
  final AtomicInteger untimedLoads = new AtomicInteger();

  final ThreadLocal<Boolean> inTimer = ThreadLocal.withInitial(() -> false);
  PrometheusMeterRegistry registry;
  MetadataCache cache;
  HttpServer server;
  Routes routes;

  @BeforeEach
  void start() throws Exception {
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Scheduler timers =
        new Scheduler() {
          @Override
          public long schedule(long delayMillis, Runnable task) {
            return vertx.setTimer(
                delayMillis,
                id -> {
                  inTimer.set(true);
                  try {
                    task.run();
                  } finally {
                    inTimer.set(false);
                  }
                });
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
            () -> {
              loads.incrementAndGet();
              if (!inTimer.get()) {
                untimedLoads.incrementAndGet();
              }
              return chainUp.get()
                  ? Future.succeededFuture(
                      new Metadata(31337, "gw", "0x5FbDB2315678afecb367f032d93F642f64180aa3"))
                  : Future.failedFuture(new RpcException(RpcException.Kind.THROTTLED, "HTTP 429"));
            },
            timers,
            System::nanoTime,
            Duration.ofMillis(200),
            Duration.ofMillis(50));
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
    routes =
        new Routes(
            cache, decisions, registry, "0xAbC", "http://rpc.example", 1024, System::nanoTime);
    server =
        vertx
            .createHttpServer()
            .requestHandler(routes)
            .listen(0, "127.0.0.1")
            .await(30, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws Exception {
    cache.stop();
    vertx.close().await(30, TimeUnit.SECONDS);
  }

  HttpResponse<String> get(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.actualPort() + path))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> post(String path, String body) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.actualPort() + path))
            .header("content-type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void answers500OnlyWhileNothingWasEverLoaded() throws Exception {
    cache.start();
    HttpResponse<String> r = get("/");
    assertThat(r.statusCode()).isEqualTo(500);
    assertThat(r.body()).isEqualTo(BACKEND);
    assertThat(get("/healthz/ready").statusCode()).isEqualTo(503);

    chainUp.set(true);
    r = get("/"); // a miss loads (coalesced with any refresh in flight)
    assertThat(r.statusCode()).isEqualTo(200);
    JsonObject json = new JsonObject(r.body());
    assertThat(json.getString("kmsContractAddr")).isEqualTo("0xAbC");
    assertThat(json.getString("ethRpcUrl")).isEqualTo("http://rpc.example");
    assertThat(get("/healthz/ready").statusCode()).isEqualTo(200);

    // The provider fails from now on: the last good value stays, getting older; reads are free.
    chainUp.set(false);
    Thread.sleep(600);
    int loadsBefore = loads.get();
    int untimedBefore = untimedLoads.get();
    for (int i = 0; i < 200; i++) {
      r = get("/");
      assertThat(r.statusCode()).isEqualTo(200);
    }
    // Only the retry timer loads (50 ms doubling to 200 ms), never the 200 reads: counted by
    // cause, so a slow machine that lets more timers fire meanwhile changes nothing.
    assertThat(untimedLoads.get() - untimedBefore).as("loads caused by reads").isZero();
    assertThat(loads.get()).isGreaterThan(loadsBefore - 1);
    assertThat(new JsonObject(r.body()).getLong("metadataAgeMs")).isGreaterThanOrEqualTo(500);
    assertThat(get("/healthz/ready").statusCode()).isEqualTo(200);
    routes.drain();
    assertThat(get("/healthz/ready").statusCode()).isEqualTo(503);
    assertThat(get("/").statusCode()).isEqualTo(200); // still serving while draining
  }

  @Test
  void bootAuthFailsClosedAndIsCounted() throws Exception {
    chainUp.set(true);
    cache.start().await(30, TimeUnit.SECONDS);
    String body =
        "{\"mrAggregated\":\"\",\"osImageHash\":\"\",\"appId\":\"\",\"composeHash\":\"\",\"instanceId\":\"\",\"deviceId\":\"\"}";
    HttpResponse<String> r = post("/bootAuth/kms", body);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body())
        .isEqualTo(
            "{\"isAllowed\":false,\"reason\":\"authorization backend unavailable\",\"gatewayAppId\":\"\"}");
    assertThat(get("/metrics").body())
        .contains("autheth_bootauth_total{result=\"unavailable\",route=\"/bootAuth/kms\"} 1.0");
    r = post("/bootAuth/app", "{\"pad\":\"" + "x".repeat(2000) + "\"}"); // over the 1024-byte limit
    assertThat(r.statusCode()).isEqualTo(500);
    assertThat(r.body()).isEqualTo(BACKEND);
  }
}
