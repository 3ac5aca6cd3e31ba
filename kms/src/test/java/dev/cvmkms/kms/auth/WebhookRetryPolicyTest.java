package dev.cvmkms.kms.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cvmkms.kms.upstream.Backoff;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * "Our clients never retry faster after failures": the webhook client's wait before each retry (its
 * {@link Backoff#standard} backoff, as WebhookClient builds it), with seeded randomness. Its
 * expectation never decreases from one failure to the next, it is capped, and a Retry-After is
 * honoured exactly (never undercut).
 */
class WebhookRetryPolicyTest {
  private static final int SAMPLES = 20_000;

  @Test
  void expectedWaitIsNonDecreasingAcrossFailures_andBounded() {
    Random random = new Random(42);
    double previous = -1;
    for (int attempt = 0; attempt < 12; attempt++) {
      long sum = 0;
      long max = 0;
      for (int i = 0; i < SAMPLES; i++) {
        long w = wait(random, attempt, -1);
        assertThat(w).isBetween(0L, 2_000L);
        sum += w;
        max = Math.max(max, w);
      }
      double mean = (double) sum / SAMPLES;
      // Full jitter: mean = ceiling / 2, ceiling = min(2000, 100 * 2^attempt).
      double ceiling = Math.min(2000, 100L << attempt);
      assertThat(mean).isBetween(ceiling / 2 * 0.95, ceiling / 2 * 1.05);
      assertThat(mean).isGreaterThanOrEqualTo(previous * 0.95);
      previous = Math.max(previous, mean);
    }
  }

  @Test
  void retryAfterIsAFloor_whateverTheAttempt() {
    Random random = new Random(7);
    for (int attempt = 0; attempt < 5; attempt++) {
      assertThat(wait(random, attempt, 1500)).isGreaterThanOrEqualTo(1500);
      assertThat(wait(random, attempt, 0)).isGreaterThanOrEqualTo(0);
    }
  }

  /** The wait in milliseconds, as WebhookClient computes it from Retry-After in milliseconds. */
  private static long wait(Random random, int attempt, long retryAfterMillis) {
    long retryAfterNanos = retryAfterMillis >= 0 ? retryAfterMillis * 1_000_000 : -1;
    return Backoff.standard(random::nextDouble).delayNanos(attempt, retryAfterNanos) / 1_000_000;
  }
}
