package dev.cvmkms.kms.ops;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cvmkms.kms.attestation.Bytes;
import dev.cvmkms.kms.attestation.mock.MockTdx;
import dev.cvmkms.kms.client.FakeSourceKms;
import dev.cvmkms.kms.config.BodyLimits;
import dev.cvmkms.kms.keys.FileKeyStore;
import dev.cvmkms.kms.keys.KeyBootstrap;
import dev.cvmkms.kms.keys.KeyStore;
import dev.cvmkms.kms.rpc.CryptoPool;
import dev.cvmkms.kms.service.KmsAttestation;
import dev.cvmkms.kms.service.OnboardService;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The onboarding page in headless Chromium: attestation info, a refused and a good Bootstrap,
 * Finish.
 */
class OnboardPageTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
  @TempDir Path tmp;
  private Vertx vertx;
  private OnboardListener listener;
  private OnboardService service;
  private KeyStore store;
  private MockTdx tdx;

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    CryptoPool crypto = new CryptoPool(vertx, 2, 60);
    tdx = MockTdx.create(Instant.now());
    KmsAttestation att = FakeSourceKms.mockAttestation(tdx);
    store = new FileKeyStore(tmp.resolve("certs"));
    service =
        new OnboardService(
            vertx,
            crypto,
            store,
            new KeyBootstrap(Clock.systemUTC()),
            new dev.cvmkms.kms.service.OnboardServiceTest.FakePolicy(),
            att,
            Optional.of(att::attestForCertificate),
            "page-test",
            Duration.ofSeconds(10));
    listener =
        OnboardListener.start(
                vertx,
                "127.0.0.1",
                0,
                service.methods(BodyLimits.defaults()),
                caller -> service.finish(caller, com.google.protobuf.Empty.getDefaultInstance()),
                new SimpleMeterRegistry())
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws Exception {
    listener
        .stop(Duration.ZERO)
        .toCompletionStage()
        .toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private String base() {
    return "http://127.0.0.1:" + listener.port();
  }

  @Test
  void pageAndPlainRoutes_areServedWithAStrictPolicy() throws Exception {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    HttpResponse<String> page =
        http.send(
            HttpRequest.newBuilder(URI.create(base() + "/")).timeout(WAIT).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.headers().firstValue("content-type")).hasValue("text/html; charset=utf-8");
    assertThat(page.headers().firstValue("content-security-policy"))
        .hasValueSatisfying(v -> assertThat(v).startsWith("default-src 'none'"));
    // No external script, style or link of any kind.
    assertThat(page.body())
        .doesNotContain("src=")
        .doesNotContain("<link")
        .doesNotContain("//unpkg");
    HttpResponse<String> health =
        http.send(
            HttpRequest.newBuilder(URI.create(base() + "/health")).timeout(WAIT).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(health.body()).isEqualTo("OK");
    HttpResponse<String> finish =
        http.send(
            HttpRequest.newBuilder(URI.create(base() + "/finish")).timeout(WAIT).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(finish.statusCode()).isEqualTo(400);
    assertThat(finish.body()).contains("nothing to finish");
    HttpResponse<String> prefixed =
        http.send(
            HttpRequest.newBuilder(URI.create(base() + "/prpc/Onboard.GetAttestationInfo?json"))
                .timeout(WAIT)
                .POST(HttpRequest.BodyPublishers.ofString("null"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(prefixed.statusCode()).isEqualTo(200);
    assertThat(prefixed.body()).contains("\"tee_variant\":\"dstack-tdx\"");
  }

  @Test
  void inHeadlessChromium_bootstrapAndFinish_throughThePage() throws Exception {
    Optional<Path> chromium = HeadlessChromium.find();
    Assumptions.assumeTrue(
        chromium.isPresent(),
        "chromium is not installed (Debian: apt-get install -y chromium); page test skipped");
    try (HeadlessChromium browser =
        HeadlessChromium.launch(chromium.get(), tmp.resolve("chromium-profile"))) {
      browser.navigate(base() + "/");
      // GetAttestationInfo runs on load and fills the table.
      byte[] zero = new byte[64];
      String expectedMr =
          tdx.verifier()
              .verify(tdx.attestation(zero), zero, Instant.now())
              .bootInfo(false, "")
              .mrAggregated();
      assertThat(
              browser.waitFor(
                  "document.getElementById('info-mr_aggregated').textContent",
                  s -> !s.isEmpty(),
                  WAIT))
          .isEqualTo(expectedMr);
      assertThat(browser.eval("document.getElementById('info-site_name').textContent").asText())
          .isEqualTo("page-test");
      // A bad domain: the page shows the server's error, nothing is written.
      browser.eval(
          "document.getElementById('bootstrap-domain').value = 'kms_example.com';"
              + " document.getElementById('bootstrap-run').click(); true");
      assertThat(
              browser.waitFor(
                  "document.getElementById('bootstrap-result').textContent",
                  s -> s.startsWith("Error"),
                  WAIT))
          .contains("domain may only contain");
      assertThat(store.state()).isEqualTo(KeyStore.State.EMPTY);
      // A good one bootstraps; the page shows the stored k256 public key.
      browser.eval(
          "document.getElementById('bootstrap-domain').value = 'localhost';"
              + " document.getElementById('bootstrap-run').click(); true");
      String result =
          browser.waitFor(
              "document.getElementById('bootstrap-result').textContent",
              s -> s.startsWith("Bootstrapped") || s.startsWith("Error"),
              WAIT);
      assertThat(result)
          .startsWith("Bootstrapped")
          .contains(HexFormat.of().formatHex(store.load().k256CompressedPublicKey()))
          .contains(Bytes.hex(store.load().rootCaSpkiDer()));
      // Finish from the page completes the phase.
      browser.eval("document.getElementById('finish-run').click(); true");
      assertThat(
              browser.waitFor(
                  "document.getElementById('finish-result').textContent",
                  s -> s.startsWith("Finished") || s.startsWith("Error"),
                  WAIT))
          .startsWith("Finished");
      assertThat(service.finished().succeeded()).isTrue();
      // Everything the page loaded came from this listener.
      String resources =
          browser
              .eval(
                  "JSON.stringify(performance.getEntriesByType('resource').map(e => e.name)"
                      + ".filter(n => !n.startsWith(location.origin + '/')))")
              .asText();
      assertThat(resources).isEqualTo("[]");
    }
  }
}
