package dev.cvmkms.kms.attestation.dcap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cvmkms.kms.attestation.AttestationException;
import dev.cvmkms.kms.attestation.AttestationException.Reason;
import dev.cvmkms.kms.attestation.MutableClock;
import dev.cvmkms.kms.attestation.mock.MockCollateralSpec;
import dev.cvmkms.kms.attestation.mock.MockTdxPki;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;

/** The collateral cache rules on a fake clock, against a scripted upstream (no network). */
class CollateralCacheTest {
  static final Instant NOW = Instant.parse("2026-11-21T06:00:00Z");
  static final MockTdxPki PKI = new MockTdxPki("cache-test".getBytes(StandardCharsets.UTF_8));
  static final CollateralSource.Key KEY = new CollateralSource.Key("000000000000", "platform");

  private final MutableClock clock = new MutableClock(NOW);

  /** An upstream whose fetches the test completes by hand. */
  private static final class Upstream implements CollateralSource {
    final List<CompletableFuture<Collateral>> fetches = new ArrayList<>();

    @Override
    public synchronized CompletionStage<Collateral> fetch(Key key) {
      CompletableFuture<Collateral> f = new CompletableFuture<>();
      fetches.add(f);
      return f;
    }

    synchronized CompletableFuture<Collateral> last() {
      return fetches.get(fetches.size() - 1);
    }
  }

  private final Upstream upstream = new Upstream();

  private CollateralCache cache(int size) {
    return new CollateralCache(upstream, clock, size, Duration.ofHours(1), Duration.ofSeconds(10));
  }

  /** A bundle valid from a minute ago for {@code validity}. */
  private Collateral bundle(Duration validity) {
    return PKI.collateral(
        new MockCollateralSpec(
            clock.instant().minusSeconds(60),
            validity,
            "000000000000",
            "0000",
            "UpToDate",
            List.of(),
            false,
            "UpToDate",
            MockCollateralSpec.QE_MRSIGNER,
            1,
            false));
  }

  private static Throwable failure(CompletionStage<?> s) {
    CompletableFuture<?> f = s.toCompletableFuture();
    assertThat(f).isCompletedExceptionally();
    try {
      f.join();
      throw new AssertionError();
    } catch (CompletionException e) {
      return e.getCause();
    }
  }

  @Test
  void concurrentMisses_shareOneFetch_andAHitCostsNothing() {
    CollateralCache c = cache(16);
    var a = c.fetch(KEY).toCompletableFuture();
    var b = c.fetch(KEY).toCompletableFuture();
    assertThat(upstream.fetches).hasSize(1);
    Collateral x = bundle(Duration.ofDays(30));
    upstream.last().complete(x);
    assertThat(a.join()).isSameAs(x);
    assertThat(b.join()).isSameAs(x);
    assertThat(c.cached(KEY)).containsSame(x);
    assertThat(c.fetch(KEY).toCompletableFuture().join()).isSameAs(x);
    assertThat(upstream.fetches).hasSize(1);
    assertThat(c.size()).isEqualTo(1);
  }

  @Test
  void refreshAhead_keepsTheOldBundleWhenItFails_andReplacesItWhenItWorks() {
    CollateralCache c = cache(16);
    c.fetch(KEY);
    Collateral first = bundle(Duration.ofDays(30));
    upstream.last().complete(first);

    clock.advance(Duration.ofMinutes(59));
    assertThat(c.cached(KEY)).containsSame(first);
    assertThat(upstream.fetches).hasSize(1);

    clock.advance(Duration.ofMinutes(2)); // past refresh_after: one background refresh
    assertThat(c.cached(KEY)).containsSame(first);
    assertThat(c.cached(KEY)).containsSame(first);
    assertThat(upstream.fetches).hasSize(2);
    upstream
        .last()
        .completeExceptionally(
            new AttestationException(Reason.COLLATERAL_UNAVAILABLE, "PCCS HTTP 503"));
    assertThat(c.cached(KEY)).as("a failed refresh keeps the old bundle").containsSame(first);
    assertThat(upstream.fetches).as("and is not retried at once").hasSize(2);

    clock.advance(Duration.ofSeconds(11)); // failure_backoff later: tried again
    assertThat(c.cached(KEY)).containsSame(first);
    assertThat(upstream.fetches).hasSize(3);
    Collateral second = bundle(Duration.ofDays(30));
    upstream.last().complete(second);
    assertThat(c.cached(KEY)).containsSame(second);
  }

  @Test
  void aBundleIsNeverServedPastItsNextUpdate_andIsRefreshedAtHalfItsValidity() {
    CollateralCache c = cache(16);
    c.fetch(KEY);
    Collateral shortLived = bundle(Duration.ofMinutes(41)); // nextUpdate 40 min from now
    upstream.last().complete(shortLived);

    clock.advance(Duration.ofMinutes(19));
    assertThat(c.cached(KEY)).containsSame(shortLived);
    assertThat(upstream.fetches).hasSize(1);
    clock.advance(Duration.ofMinutes(2)); // half of the remaining validity: refresh ahead
    assertThat(c.cached(KEY)).containsSame(shortLived);
    assertThat(upstream.fetches).hasSize(2);
    upstream.last().completeExceptionally(new RuntimeException("down"));

    clock.advance(Duration.ofMinutes(20)); // past nextUpdate
    assertThat(c.cached(KEY)).isEmpty();
    var again = c.fetch(KEY);
    assertThat(upstream.fetches).hasSize(3);
    assertThat(again.toCompletableFuture()).isNotDone();
  }

  @Test
  void failures_areNotCachedAsValues_butFurtherMissesFailAtOnceForTheBackoff() {
    CollateralCache c = cache(16);
    var first = c.fetch(KEY);
    upstream
        .last()
        .completeExceptionally(
            new AttestationException(Reason.COLLATERAL_UNAVAILABLE, "PCCS GET /tdx: HTTP 429"));
    assertThat(failure(first)).hasMessageContaining("HTTP 429");
    assertThat(c.cached(KEY)).isEmpty();

    for (int i = 0; i < 100; i++) {
      assertThat(failure(c.fetch(KEY)))
          .isInstanceOfSatisfying(
              AttestationException.class,
              e -> assertThat(e.reason()).isEqualTo(Reason.COLLATERAL_UNAVAILABLE))
          .hasMessageContaining("not retried for 10 s");
    }
    assertThat(upstream.fetches).hasSize(1);

    clock.advance(Duration.ofSeconds(11));
    c.fetch(KEY);
    assertThat(upstream.fetches).hasSize(2);
  }

  @Test
  void theCacheIsBoundedInSize() {
    CollateralCache c = cache(8);
    for (int i = 0; i < 100; i++) {
      var key = new CollateralSource.Key(String.format("%012x", i), "platform");
      c.fetch(key);
      upstream.last().complete(bundle(Duration.ofDays(30)));
    }
    assertThat(c.size()).isLessThanOrEqualTo(8);
  }
}
