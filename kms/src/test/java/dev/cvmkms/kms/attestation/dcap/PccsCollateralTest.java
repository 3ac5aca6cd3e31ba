package dev.cvmkms.kms.attestation.dcap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cvmkms.kms.attestation.AttestationException;
import dev.cvmkms.kms.attestation.AttestationException.Reason;
import dev.cvmkms.kms.attestation.Bytes;
import dev.cvmkms.kms.attestation.MutableClock;
import dev.cvmkms.kms.attestation.Vectors;
import dev.cvmkms.kms.attestation.mock.MockCollateralSpec;
import dev.cvmkms.kms.attestation.mock.MockQuoteSpec;
import dev.cvmkms.kms.attestation.mock.MockTdxPki;
import dev.cvmkms.kms.attestation.mock.PcsStub;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The real PCCS client against the PCS-shaped stub, and the per-FMSPC cache rules. */
class PccsCollateralTest {
  static final Instant NOW = Instant.parse("2026-11-21T06:00:00Z");
  static final MockTdxPki PKI = new MockTdxPki("pccs-test".getBytes(StandardCharsets.UTF_8));
  static final HttpClient HTTP = PccsCollateralSource.newHttpClient(Duration.ofSeconds(2));
  static final CollateralSource.Key KEY = new CollateralSource.Key("000000000000", "platform");

  private PcsStub stub;

  @BeforeEach
  void start() throws Exception {
    stub = PcsStub.start(PKI, MockCollateralSpec.healthy(NOW));
  }

  @AfterEach
  void stop() {
    stub.close();
  }

  private PccsCollateralSource client(Duration timeout, int max) {
    return new PccsCollateralSource(stub.baseUri(), HTTP, timeout, max);
  }

  @Test
  void fetchedCollateralVerifiesAMockQuote() {
    Collateral c = client(Duration.ofSeconds(2), PccsCollateralSource.DEFAULT_MAX_BODY).fetch(KEY);
    Collateral direct = PKI.collateral(MockCollateralSpec.healthy(NOW));
    assertThat(c.tcbInfoJson()).isEqualTo(direct.tcbInfoJson());
    assertThat(c.qeIdentityJson()).isEqualTo(direct.qeIdentityJson());
    assertThat(c.rootCaCrl()).isEqualTo(direct.rootCaCrl());
    assertThat(c.pckCrlIssuerChain()).isEqualTo(direct.pckCrlIssuerChain());
    byte[] quote = PKI.quote(new MockQuoteSpec());
    assertThat(CollateralSource.Key.of(TdxQuote.parse(quote))).isEqualTo(KEY);
    var v = new DcapVerifier(PKI.trustAnchor()).verify(quote, c, NOW);
    assertThat(v.status()).isEqualTo(TcbStatus.UP_TO_DATE);
  }

  @Test
  void baseUrlWithCertificationSuffixIsAccepted() {
    URI withSuffix = URI.create(stub.baseUri() + "/sgx/certification/v4/");
    Collateral c =
        new PccsCollateralSource(withSuffix, HTTP, Duration.ofSeconds(2), 1 << 20).fetch(KEY);
    assertThat(c.tcbInfoJson()).startsWith("{\"id\":\"TDX\"");
  }

  @Test
  void rawMemberIsTheExactSignedTextOfARealPcsBody() {
    String body = Vectors.text("go-tdx-guest/sample_tcbinfo_response_v5");
    JsonNode derived = Vectors.json("derived-v5-collateral.json");
    assertThat(PccsCollateralSource.rawMember(body, "tcbInfo"))
        .isEqualTo(derived.get("tcb_info").asText());
    String spaced = "{ \"signature\" : \"00\", \"tcbInfo\" : {\"a\": [1, {\"b\":\"}\"}]} }";
    assertThat(PccsCollateralSource.rawMember(spaced, "tcbInfo"))
        .isEqualTo("{\"a\": [1, {\"b\":\"}\"}]}");
  }

  @Test
  void rootCrlAsHexDerOrPem() {
    byte[] der = PKI.collateral(MockCollateralSpec.healthy(NOW)).rootCaCrl();
    assertThat(PccsCollateralSource.crlBytes(der)).isEqualTo(der);
    assertThat(PccsCollateralSource.crlBytes(Bytes.hex(der).getBytes(StandardCharsets.US_ASCII)))
        .isEqualTo(der);
    String pem =
        "-----BEGIN X509 CRL-----\n"
            + java.util.Base64.getMimeEncoder().encodeToString(der)
            + "\n-----END X509 CRL-----\n";
    assertThat(PccsCollateralSource.crlBytes(pem.getBytes(StandardCharsets.US_ASCII)))
        .isEqualTo(der);
  }

  @Test
  void upstreamFailuresAreUnavailableNotHangs() {
    stub.failWith(429);
    assertThatThrownBy(() -> client(Duration.ofSeconds(2), 1 << 20).fetch(KEY))
        .isInstanceOfSatisfying(
            AttestationException.class,
            e -> {
              assertThat(e.reason()).isEqualTo(Reason.COLLATERAL_UNAVAILABLE);
              assertThat(e.getMessage()).contains("HTTP 429");
            });
    stub.failWith(0);
    stub.delay(Duration.ofSeconds(20)); // far past the 5 s bound below: only the timeout ends it
    long t0 = System.nanoTime();
    assertThatThrownBy(() -> client(Duration.ofMillis(300), 1 << 20).fetch(KEY))
        .isInstanceOfSatisfying(
            AttestationException.class, e -> assertThat(e.getMessage()).contains("timed out"));
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
  }

  @Test
  void oversizedBodiesAreRefused() {
    assertThatThrownBy(() -> client(Duration.ofSeconds(2), 64).fetch(KEY))
        .isInstanceOfSatisfying(
            AttestationException.class, e -> assertThat(e.getMessage()).contains("larger than"));
  }

  @Test
  void cacheServesPerFmspcWithinMaxAgeAndNeverPastNextUpdate() {
    MutableClock clock = new MutableClock(NOW);
    var cache =
        new CachingCollateralSource(
            client(Duration.ofSeconds(2), 1 << 20), clock, Duration.ofHours(24));
    Collateral first = cache.fetch(KEY);
    assertThat(cache.fetch(KEY)).isSameAs(first);
    assertThat(stub.hits("/tdx/certification/v4/tcb")).isEqualTo(1);
    clock.advance(Duration.ofHours(23));
    assertThat(cache.fetch(KEY)).isSameAs(first);
    clock.advance(Duration.ofHours(2));
    Collateral second = cache.fetch(KEY);
    assertThat(second).isNotSameAs(first);
    assertThat(stub.hits("/tdx/certification/v4/tcb")).isEqualTo(2);

    // a bundle whose nextUpdate is sooner than max age is refreshed at nextUpdate
    MockCollateralSpec shortLived =
        new MockCollateralSpec(
            clock.instant().minusSeconds(60),
            Duration.ofHours(2),
            "000000000000",
            "0000",
            "UpToDate",
            List.of(),
            false,
            "UpToDate",
            MockCollateralSpec.QE_MRSIGNER,
            1,
            false);
    stub.serve(PKI, shortLived);
    cache.clear();
    Collateral s1 = cache.fetch(KEY);
    clock.advance(Duration.ofMinutes(90));
    assertThat(cache.fetch(KEY)).isSameAs(s1);
    clock.advance(Duration.ofMinutes(40));
    assertThat(cache.fetch(KEY)).isNotSameAs(s1);
  }

  @Test
  void staleBundleBridgesAnOutageUntilNextUpdate() {
    MutableClock clock = new MutableClock(NOW);
    var cache =
        new CachingCollateralSource(
            client(Duration.ofSeconds(2), 1 << 20), clock, Duration.ofHours(1));
    Collateral c = cache.fetch(KEY);
    stub.failWith(503);
    clock.advance(Duration.ofHours(2));
    assertThat(cache.fetch(KEY)).isSameAs(c);
    clock.advance(Duration.ofDays(30));
    assertThatThrownBy(() -> cache.fetch(KEY))
        .isInstanceOfSatisfying(
            AttestationException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.COLLATERAL_UNAVAILABLE));
  }

  @Test
  void concurrentMissesMakeOneUpstreamCall() throws Exception {
    stub.delay(Duration.ofMillis(200));
    var cache =
        new CachingCollateralSource(
            client(Duration.ofSeconds(5), 1 << 20), new MutableClock(NOW), Duration.ofHours(1));
    ExecutorService pool = Executors.newFixedThreadPool(6);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<Collateral>> fs = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        fs.add(
            pool.submit(
                () -> {
                  go.await();
                  return cache.fetch(KEY);
                }));
      }
      go.countDown();
      Collateral first = fs.get(0).get(20, TimeUnit.SECONDS);
      for (Future<Collateral> f : fs) {
        assertThat(f.get(20, TimeUnit.SECONDS)).isSameAs(first);
      }
      assertThat(stub.hits("/tdx/certification/v4/tcb")).isEqualTo(1);
    } finally {
      pool.shutdownNow();
    }
  }
}
