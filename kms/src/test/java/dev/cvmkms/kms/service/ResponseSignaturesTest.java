package dev.cvmkms.kms.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cvmkms.kms.attestation.MutableClock;
import dev.cvmkms.kms.keys.ResponseSignature;
import dev.cvmkms.kms.keys.derivation.Secp256k1;
import dev.cvmkms.kms.rpc.CryptoPool;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The cached signer: one signature per (method, body, second), computed on the crypto pool. */
class ResponseSignaturesTest {
  private static final byte[] KEY = HexFormat.of().parseHex("07".repeat(32));
  private static final byte[] PUB = Secp256k1.publicKeyCompressed(KEY);
  private static final byte[] BODY = "{\"k256_pubkey\":\"03ab\"}".getBytes(StandardCharsets.UTF_8);

  private Vertx vertx;
  private CryptoPool crypto;
  private final MutableClock clock = new MutableClock(Instant.parse("2026-12-01T10:00:00.100Z"));
  private ResponseSignatures signer;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    crypto = new CryptoPool(vertx, 2, 60);
    signer = new ResponseSignatures(KEY, crypto, clock);
  }

  @AfterEach
  void tearDown() throws Exception {
    crypto.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void headers_carryTheSecondAndASignatureThatRecoversTheKey() throws Exception {
    Map<String, String> h = await(signer.sign("GetMeta", BODY));
    assertThat(h.get("X-Kms-Timestamp")).isEqualTo("" + clock.instant().getEpochSecond());
    ResponseSignature s =
        ResponseSignature.parse(h.get("X-Kms-Timestamp"), h.get("X-Kms-Signature"));
    assertThat(s.verifies("GetMeta", BODY, PUB)).isTrue();
  }

  @Test
  void oneSignaturePerSecondPerDistinctBody_refreshedAheadInTheBackground() throws Exception {
    List<Future<Map<String, String>>> concurrent = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      concurrent.add(signer.sign("GetMeta", BODY.clone()));
    }
    Map<String, String> first = await(concurrent.get(0));
    for (var f : concurrent) {
      assertThat(await(f)).isEqualTo(first);
    }
    assertThat(signer.signaturesMade()).as("concurrent first sights share one signing").isOne();
    long t0 = Long.parseLong(first.get("X-Kms-Timestamp"));

    clock.advance(Duration.ofMillis(800)); // same second
    assertThat(await(signer.sign("GetMeta", BODY))).isEqualTo(first);
    assertThat(signer.signaturesMade()).isOne();

    await(signer.sign("GetTempCaCert", BODY)); // another method: another digest
    await(signer.sign("GetMeta", "other".getBytes(StandardCharsets.UTF_8))); // another body
    assertThat(signer.signaturesMade()).isEqualTo(3);

    // Older than REFRESH: still served at once, and re-made in the background.
    clock.advance(Duration.ofMillis(400));
    Future<Map<String, String>> stale = signer.sign("GetMeta", BODY);
    assertThat(stale.isComplete()).as("no request waits for a refresh").isTrue();
    // The current signature, or the refreshed one if the pool was quicker than this thread.
    assertThat(Long.parseLong(stale.result().get("X-Kms-Timestamp"))).isIn(t0, t0 + 1);
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> signer.signaturesMade() == 4);
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> !await(signer.sign("GetMeta", BODY)).equals(first));
    Map<String, String> refreshed = await(signer.sign("GetMeta", BODY));
    assertThat(Long.parseLong(refreshed.get("X-Kms-Timestamp"))).isEqualTo(t0 + 1);
    for (int i = 0; i < 10; i++) {
      assertThat(await(signer.sign("GetMeta", BODY))).isEqualTo(refreshed);
    }
    assertThat(signer.signaturesMade()).as("one refresh per second").isEqualTo(4);

    // Older than MAX_AGE: never served; the request waits for a fresh signature.
    clock.advance(ResponseSignatures.MAX_AGE.plusSeconds(1));
    Map<String, String> fresh = await(signer.sign("GetMeta", BODY));
    assertThat(Long.parseLong(fresh.get("X-Kms-Timestamp")))
        .isEqualTo(clock.instant().getEpochSecond());
    assertThat(
            ResponseSignature.parse(fresh.get("X-Kms-Timestamp"), fresh.get("X-Kms-Signature"))
                .verifies("GetMeta", BODY, PUB))
        .isTrue();
  }

  @Test
  void freshnessFollowsTheSignaturesOwnTime_evenWhenTheCacheRecordsItLate() throws Exception {
    // This listener runs on the signing thread before the cache's own completion handler (a
    // CompletableFuture runs later dependents first), as a preempted thread would let a request
    // do: the cache then records the entry 1.2 s after the signature was made.
    Map<String, String> first =
        await(signer.sign("GetMeta", BODY).onSuccess(h -> clock.advance(REFRESH_AND_MORE)));
    Future<Map<String, String>> served = signer.sign("GetMeta", BODY);
    assertThat(served.isComplete()).isTrue();
    assertThat(served.result()).isEqualTo(first);
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> signer.signaturesMade() == 2);
    // And past MAX_AGE of its own time it is never served, however late it was recorded.
    clock.advance(ResponseSignatures.MAX_AGE);
    Map<String, String> fresh = await(signer.sign("GetMeta", BODY));
    assertThat(Long.parseLong(fresh.get("X-Kms-Timestamp")))
        .isEqualTo(clock.instant().getEpochSecond());
  }

  private static final Duration REFRESH_AND_MORE = ResponseSignatures.REFRESH.plusMillis(200);

  @Test
  void aBodyDifferingInOneByte_getsItsOwnSignature() throws Exception {
    Map<String, String> first = await(signer.sign("GetMeta", BODY));
    await(signer.sign("GetMeta", BODY)); // now remembered as the method's last body
    byte[] changed = BODY.clone();
    changed[5] ^= 1;
    Map<String, String> other = await(signer.sign("GetMeta", changed));
    assertThat(other).isNotEqualTo(first);
    ResponseSignature s =
        ResponseSignature.parse(other.get("X-Kms-Timestamp"), other.get("X-Kms-Signature"));
    assertThat(s.verifies("GetMeta", changed, PUB)).isTrue();
    assertThat(s.verifies("GetMeta", BODY, PUB)).isFalse();
    assertThat(await(signer.sign("GetMeta", BODY))).isEqualTo(first);
  }

  @Test
  void aCachedSignature_completesAtOnce() throws Exception {
    await(signer.sign("GetMeta", BODY));
    assertThat(signer.sign("GetMeta", BODY).isComplete()).isTrue();
  }

  @Test
  void toStringHidesTheKey() {
    assertThat(signer.toString()).doesNotContain("07").contains("redacted");
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }
}
