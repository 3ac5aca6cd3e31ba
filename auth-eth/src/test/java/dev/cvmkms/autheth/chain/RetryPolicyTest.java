package dev.cvmkms.autheth.chain;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * "Our clients never retry faster after failures", for the RPC client's backoff with seeded
 * randomness: the expected delay never decreases from one failed attempt to the next, every delay
 * is capped, and the provider's Retry-After is a floor at every attempt.
 */
class RetryPolicyTest {
  private static final int SAMPLES = 20_000;

  @Test
  void expectedDelayIsNonDecreasing_boundedByTheCap_andRetryAfterIsAFloor() {
    Random random = new Random(1234);
    Backoff backoff =
        new Backoff(Duration.ofMillis(100), Duration.ofSeconds(2), random::nextDouble);
    double previous = 0;
    for (int retry = 0; retry < 10; retry++) {
      double sum = 0;
      for (int i = 0; i < SAMPLES; i++) {
        long d = backoff.delayNanos(retry, -1);
        assertThat(d).isBetween(0L, Duration.ofSeconds(2).toNanos());
        sum += d;
      }
      double mean = sum / SAMPLES;
      assertThat(mean).isGreaterThanOrEqualTo(previous * 0.95);
      previous = Math.max(previous, mean);
      long floor = Duration.ofMillis(700).toNanos();
      for (int i = 0; i < 100; i++) {
        assertThat(backoff.delayNanos(retry, floor)).isGreaterThanOrEqualTo(floor);
      }
    }
    // Once the cap is reached the mean stays at half of it: no shrinking.
    assertThat(previous).isBetween(0.95e9, 1.05e9);
  }
}
