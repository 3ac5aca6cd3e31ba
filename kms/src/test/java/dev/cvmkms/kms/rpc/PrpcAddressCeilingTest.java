package dev.cvmkms.kms.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Empty;
import dev.cvmkms.kms.config.RateLimitConfig;
import dev.cvmkms.kms.config.RateLimitConfig.Rate;
import dev.cvmkms.kms.encoding.Pem;
import dev.cvmkms.kms.keys.CertExtensions;
import dev.cvmkms.kms.keys.CertProfile;
import dev.cvmkms.kms.keys.CertificateIssuer;
import dev.cvmkms.kms.keys.EcKeys;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.SelfSignedCertificate;
import io.vertx.ext.web.Router;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The limiter keys a certificate client by the app id it claims, before its attestation is
 * verified, and anyone can mint such certificates (the temp CA key is public). Over real TLS with
 * fresh certificates on a frozen fake clock: minting app ids does not buy one address more than its
 * ceiling, while other addresses and certificate-less clients keep their own buckets.
 */
class PrpcAddressCeilingTest {
  private final AtomicLong now = new AtomicLong(5_000_000_000L);
  private final SecureRandom random = new SecureRandom();
  private Vertx vertx;
  private HttpServer server;
  private SelfSignedCertificate serverCert;
  private KeyPair caKey;
  private X509Certificate ca;
  private PrometheusMeterRegistry registry;

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    serverCert = SelfSignedCertificate.create("localhost");
    caKey = EcKeys.generateP256(random);
    ca = CertificateIssuer.tempCa(caKey, Instant.now());
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    RateLimiter limiter =
        new RateLimiter(
            new RateLimitConfig(
                true,
                new Rate(1, 3),
                Map.of(),
                1000,
                Duration.ofMinutes(1),
                List.of(),
                "X-Forwarded-For",
                new Rate(1, 5)),
            now::get);
    PrpcMethod<?, ?> meta =
        PrpcMethod.of(
            "GetMeta",
            Empty.getDefaultInstance(),
            (c, r) -> Future.succeededFuture(Empty.getDefaultInstance()));
    Router router = Router.router(vertx);
    new PrpcRoutes("KMS.", List.of(meta), registry, "t", limiter).mount(router);
    server =
        vertx
            .createHttpServer(
                new HttpServerOptions()
                    .setSsl(true)
                    .setKeyCertOptions(serverCert.keyCertOptions())
                    .setTrustOptions(
                        new PemTrustOptions().addCertValue(Buffer.buffer(Pem.certificate(ca))))
                    .setClientAuth(ClientAuth.REQUEST))
            .requestHandler(router)
            .listen(0, "127.0.0.1")
            .await(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
    serverCert.delete();
  }

  /** A certificate under the temp CA claiming {@code appId}, as anyone holding its key can mint. */
  private PemKeyCertOptions minted(byte appId) {
    KeyPair key = EcKeys.generateP256(random);
    X509Certificate cert =
        CertificateIssuer.issue(
            CertProfile.leaf(
                "RA-TLS TEMP Cert",
                List.of(),
                List.of(
                    new CertProfile.CustomExtension(
                        CertExtensions.APP_ID, new byte[] {0x0a, 0x0b, appId}))),
            key.getPublic().getEncoded(),
            CertificateIssuer.subjectOf(ca),
            caKey.getPrivate(),
            Instant.now());
    return new PemKeyCertOptions()
        .setCertValue(Buffer.buffer(Pem.certificate(cert)))
        .setKeyValue(Buffer.buffer(EcKeys.pkcs8Pem(key)));
  }

  /** Status of one GetMeta on a new TLS connection from {@code local}. */
  private int call(String local, PemKeyCertOptions cert) throws Exception {
    HttpClientOptions options =
        new HttpClientOptions()
            .setSsl(true)
            .setTrustAll(true)
            .setVerifyHost(false)
            .setLocalAddress(local);
    if (cert != null) {
      options.setKeyCertOptions(cert);
    }
    HttpClient client = vertx.createHttpClient(options);
    try {
      HttpClientResponse response =
          client
              .request(HttpMethod.GET, server.actualPort(), "127.0.0.1", "/prpc/GetMeta")
              .compose(request -> request.send())
              .compose(r -> r.body().map(body -> r))
              .await(10, TimeUnit.SECONDS);
      if (response.statusCode() == 429) {
        assertThat(response.getHeader("Retry-After")).isEqualTo("1");
      }
      return response.statusCode();
    } finally {
      client.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void freshAppIdsFromOneAddress_areHeldToItsCeiling_othersKeepTheirBuckets() throws Exception {
    for (byte id = 1; id <= 5; id++) {
      assertThat(call("127.0.0.1", minted(id))).as("fresh app id %d", id).isEqualTo(200);
    }
    // Each app id has tokens left (burst 3, one used), but the address has spent its ceiling.
    assertThat(call("127.0.0.1", minted((byte) 6))).isEqualTo(429);
    assertThat(call("127.0.0.1", minted((byte) 1))).isEqualTo(429);
    // Another address, and a client without a certificate, count apart.
    assertThat(call("127.0.0.2", minted((byte) 7))).isEqualTo(200);
    assertThat(call("127.0.0.1", null)).isEqualTo(200);
    // One token per second refills the ceiling.
    now.addAndGet(Duration.ofSeconds(1).toNanos());
    assertThat(call("127.0.0.1", minted((byte) 8))).isEqualTo(200);
    assertThat(call("127.0.0.1", minted((byte) 9))).isEqualTo(429);
    assertThat(registry.scrape())
        .contains("kms_rpc_rate_limited_total{method=\"GetMeta\"} 3.0")
        .doesNotContain("127.0.0")
        .doesNotContain("0a0b");
  }

  @Test
  void oneAppIdStillHasItsOwnBucket_belowTheCeiling() throws Exception {
    PemKeyCertOptions cert = minted((byte) 1);
    for (int i = 0; i < 3; i++) {
      assertThat(call("127.0.0.1", cert)).isEqualTo(200);
    }
    assertThat(call("127.0.0.1", cert)).isEqualTo(429);
    // The refused request took no ceiling token: two fresh ids still fit (3 of 5 used).
    assertThat(call("127.0.0.1", minted((byte) 2))).isEqualTo(200);
    assertThat(call("127.0.0.1", minted((byte) 3))).isEqualTo(200);
    assertThat(call("127.0.0.1", minted((byte) 4))).isEqualTo(429);
  }
}
