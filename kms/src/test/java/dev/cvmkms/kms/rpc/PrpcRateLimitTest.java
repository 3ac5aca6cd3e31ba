package dev.cvmkms.kms.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Empty;
import dev.cvmkms.kms.config.RateLimitConfig;
import dev.cvmkms.kms.config.RateLimitConfig.Rate;
import dev.cvmkms.kms.proto.GetMetaResponse;
import dev.cvmkms.kms.proto.ProtoError;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The limiter at the pRPC edge over HTTP, on a frozen fake clock: which client gets 429 is decided
 * by counts alone. Clients are told apart by their source address (127.0.0.1 vs 127.0.0.2), or by
 * the forwarding header when the peer is a trusted proxy.
 */
class PrpcRateLimitTest {
  private final AtomicLong now = new AtomicLong(5_000_000_000L);
  private Vertx vertx;
  private PrometheusMeterRegistry registry;
  private HttpServer server;
  private RateLimiter limiter;

  private void start(List<String> trustedProxies) throws Exception {
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    limiter =
        new RateLimiter(
            new RateLimitConfig(
                true,
                new Rate(1, 3),
                Map.of("GetTempCaCert", new Rate(1, 1)),
                1000,
                Duration.ofMinutes(1),
                trustedProxies,
                "X-Forwarded-For",
                RateLimitConfig.DEFAULT_ADDRESS_CEILING),
            now::get);
    PrpcMethod<?, ?> meta =
        PrpcMethod.of(
            "GetMeta",
            Empty.getDefaultInstance(),
            (c, r) -> Future.succeededFuture(GetMetaResponse.newBuilder().setIsDev(true).build()));
    PrpcMethod<?, ?> tmpCa =
        PrpcMethod.of(
            "GetTempCaCert",
            Empty.getDefaultInstance(),
            (c, r) -> Future.succeededFuture(GetMetaResponse.getDefaultInstance()));
    PrpcRoutes routes = new PrpcRoutes("KMS.", List.of(meta, tmpCa), registry, "t", limiter);
    Router router = Router.router(vertx);
    router.get("/health").handler(ctx -> ctx.response().end("OK"));
    routes.mount(router);
    server =
        vertx
            .createHttpServer()
            .requestHandler(router)
            .listen(0, "127.0.0.1")
            .await(10, TimeUnit.SECONDS);
  }

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void tearDown() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  private WebClient client(String localAddress) {
    return WebClient.create(vertx, new WebClientOptions().setLocalAddress(localAddress));
  }

  private HttpResponse<Buffer> get(WebClient c, String path, String... headers) throws Exception {
    var req = c.get(server.actualPort(), "127.0.0.1", path);
    for (int i = 0; i < headers.length; i += 2) {
      req.putHeader(headers[i], headers[i + 1]);
    }
    return req.send().await(10, TimeUnit.SECONDS);
  }

  @Test
  void overTheLimit_429WithRetryAfterAndThePrpcBody_otherClientsAndHealthUnaffected()
      throws Exception {
    start(List.of());
    WebClient greedy = client("127.0.0.1");
    WebClient polite = client("127.0.0.2");
    for (int i = 0; i < 3; i++) {
      assertThat(get(greedy, "/prpc/GetMeta").statusCode()).isEqualTo(200);
    }
    HttpResponse<Buffer> limited = get(greedy, "/prpc/GetMeta?json");
    assertThat(limited.statusCode()).isEqualTo(429);
    assertThat(limited.getHeader("Retry-After")).isEqualTo("1");
    assertThat(limited.bodyAsString())
        .isEqualTo("{\n  \"error\": \"rate limit exceeded, retry after 1 s\"\n}");
    HttpResponse<Buffer> proto =
        greedy
            .post(server.actualPort(), "127.0.0.1", "/prpc/KMS.GetMeta")
            .sendBuffer(Buffer.buffer())
            .await(10, TimeUnit.SECONDS);
    assertThat(proto.statusCode()).isEqualTo(429);
    assertThat(ProtoError.parseFrom(proto.body().getBytes()).getMessage())
        .startsWith("rate limit exceeded");
    for (int i = 0; i < 20; i++) {
      assertThat(get(greedy, "/health").statusCode()).isEqualTo(200);
    }
    assertThat(get(polite, "/prpc/GetMeta").statusCode()).isEqualTo(200);
    // An overridden method has its own bucket: 1 token.
    assertThat(get(greedy, "/prpc/GetTempCaCert").statusCode()).isEqualTo(200);
    assertThat(get(greedy, "/prpc/GetTempCaCert").statusCode()).isEqualTo(429);
    // Time refills.
    now.addAndGet(Duration.ofSeconds(1).toNanos());
    assertThat(get(greedy, "/prpc/GetMeta").statusCode()).isEqualTo(200);

    String scrape = registry.scrape();
    assertThat(scrape).contains("kms_rpc_rate_limited_total{method=\"GetMeta\"} 2.0");
    assertThat(scrape).contains("kms_rpc_rate_limited_total{method=\"GetTempCaCert\"} 1.0");
    assertThat(scrape).doesNotContain("127.0.0");
  }

  @Test
  void aTrustedProxysForwardedClientIsTheClient_anUntrustedPeersHeaderIsIgnored() throws Exception {
    start(List.of("127.0.0.1"));
    WebClient proxy = client("127.0.0.1");
    WebClient direct = client("127.0.0.2");
    for (int i = 0; i < 3; i++) {
      assertThat(get(proxy, "/prpc/GetMeta", "X-Forwarded-For", "10.0.0.1").statusCode())
          .isEqualTo(200);
    }
    assertThat(get(proxy, "/prpc/GetMeta", "X-Forwarded-For", "10.0.0.1").statusCode())
        .isEqualTo(429);
    // Another client behind the same proxy, and a spoofed left-most entry, are their own.
    assertThat(get(proxy, "/prpc/GetMeta", "X-Forwarded-For", "10.0.0.1, 10.0.0.2").statusCode())
        .isEqualTo(200);
    // A peer that is not a proxy cannot pick its bucket by header.
    for (int i = 0; i < 3; i++) {
      assertThat(get(direct, "/prpc/GetMeta", "X-Forwarded-For", "10.0.0." + i).statusCode())
          .isEqualTo(200);
    }
    assertThat(get(direct, "/prpc/GetMeta", "X-Forwarded-For", "10.0.0.9").statusCode())
        .isEqualTo(429);
  }
}
