package dev.cvmkms.kms.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cvmkms.kms.config.RateLimitConfig;
import dev.cvmkms.kms.config.RateLimitConfig.Rate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The per-client buckets on a fake clock: counts by cause, never wall time. */
class RateLimiterTest {
  private final AtomicLong now = new AtomicLong(1_000_000_000L);

  private RateLimiter limiter(Rate rate, Map<String, Rate> perMethod, int maxClients) {
    return new RateLimiter(
        new RateLimitConfig(
            true,
            rate,
            perMethod,
            maxClients,
            Duration.ofMinutes(1),
            List.of(),
            "X-Forwarded-For",
            RateLimitConfig.DEFAULT_ADDRESS_CEILING),
        now::get);
  }

  private void advance(Duration d) {
    now.addAndGet(d.toNanos());
  }

  @Test
  void burstThenRate_andTheWaitIsTheTimeToTheNextToken() {
    RateLimiter l = limiter(new Rate(10, 20), Map.of(), 1000);
    for (int i = 0; i < 20; i++) {
      assertThat(l.tryAcquire("GetMeta", "ip:a")).isZero();
    }
    Duration wait = l.tryAcquire("GetMeta", "ip:a");
    assertThat(wait).isPositive().isLessThanOrEqualTo(Duration.ofMillis(100));
    advance(wait);
    assertThat(l.tryAcquire("GetMeta", "ip:a")).isZero();
    assertThat(l.tryAcquire("GetMeta", "ip:a")).isPositive();
    // Another client has its own bucket.
    assertThat(l.tryAcquire("GetMeta", "ip:b")).isZero();
    // After a second, ten more.
    advance(Duration.ofSeconds(1));
    int granted = 0;
    for (int i = 0; i < 50; i++) {
      granted += l.tryAcquire("GetMeta", "ip:a").isZero() ? 1 : 0;
    }
    assertThat(granted).isEqualTo(10);
  }

  @Test
  void overriddenMethodsHaveTheirOwnBucket_othersShareTheDefault() {
    RateLimiter l = limiter(new Rate(1, 2), Map.of("GetAppKey", new Rate(1, 5)), 1000);
    assertThat(l.tryAcquire("GetMeta", "app:11")).isZero();
    assertThat(l.tryAcquire("GetTempCaCert", "app:11")).isZero();
    assertThat(l.tryAcquire("SignCert", "app:11")).isPositive(); // shared default: 2 used
    for (int i = 0; i < 5; i++) {
      assertThat(l.tryAcquire("GetAppKey", "app:11")).isZero();
    }
    assertThat(l.tryAcquire("GetAppKey", "app:11")).isPositive();
  }

  @Test
  void disabled_allowsEverything() {
    RateLimiter l =
        new RateLimiter(
            new RateLimitConfig(
                false,
                new Rate(1, 1),
                Map.of(),
                16,
                Duration.ofMinutes(1),
                List.of(),
                "X-F",
                RateLimitConfig.DEFAULT_ADDRESS_CEILING),
            now::get);
    for (int i = 0; i < 100; i++) {
      assertThat(l.tryAcquire("GetMeta", "ip:a")).isZero();
    }
    assertThat(l.size()).isZero();
  }

  @Test
  void anyNumberOfDistinctClients_keepsTheMapAtItsBound_andIdleBucketsExpire() {
    RateLimiter l = limiter(new Rate(50, 100), Map.of(), 1000);
    for (int i = 0; i < 20_000; i++) {
      l.tryAcquire("GetMeta", "ip:127." + (i >> 16) + "." + ((i >> 8) & 255) + "." + (i & 255));
      if (i % 1000 == 999) {
        assertThat(l.size()).isLessThanOrEqualTo(1000);
      }
    }
    assertThat(l.size()).isLessThanOrEqualTo(1000).isPositive();
    advance(Duration.ofMinutes(2));
    assertThat(l.size()).isZero();
  }

  /**
   * Fault-matrix row 7 on a fake clock: a client that halves its delay after every 429 (and resets
   * it after a success) gets no more than burst + rate * T, while a polite client at half the rate
   * is never refused.
   */
  @Test
  void retryStorm_theMisbehavingClientIsHeldToItsRate_thePoliteOneIsNeverRefused() {
    RateLimiter l = limiter(new Rate(20, 40), Map.of(), 1000);
    long end = now.get() + Duration.ofSeconds(60).toNanos();
    long stormDelay = Duration.ofMillis(20).toNanos(); // wants 50 req/s
    long stormNext = now.get();
    long politeNext = now.get();
    long politeEvery = Duration.ofMillis(100).toNanos(); // 10 req/s
    int stormOk = 0;
    int storm429 = 0;
    int politeOk = 0;
    int polite429 = 0;
    while (true) {
      long next = Math.min(stormNext, politeNext);
      if (next >= end) {
        break;
      }
      now.set(next);
      if (next == stormNext) {
        if (l.tryAcquire("GetAppKey", "ip:10.0.0.66").isZero()) {
          stormOk++;
          stormDelay = Duration.ofMillis(20).toNanos();
        } else {
          storm429++;
          stormDelay = Math.max(1000, stormDelay / 2); // the bug: faster after each failure
        }
        stormNext = next + stormDelay;
      } else {
        if (l.tryAcquire("GetAppKey", "ip:10.0.0.7").isZero()) {
          politeOk++;
        } else {
          polite429++;
        }
        politeNext = next + politeEvery;
      }
    }
    assertThat(storm429).isGreaterThan(1000);
    assertThat(stormOk).isLessThanOrEqualTo(40 + 20 * 60).isGreaterThanOrEqualTo(20 * 60);
    assertThat(polite429).isZero();
    assertThat(politeOk).isEqualTo(600);
  }
}
