package dev.cvmkms.autheth.chain;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Full-jitter backoff, pinned identically in the KMS's BackoffTest. */
class BackoffTest {
  @Test
  void fullJitterIsBoundedAndRetryAfterIsAFloor() {
    Backoff top = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(2), () -> 0.999999);
    assertThat(top.delayNanos(0, -1)).isBetween(99_000_000L, 100_000_000L);
    assertThat(top.delayNanos(3, -1)).isBetween(799_000_000L, 800_000_000L);
    assertThat(top.delayNanos(10, -1)).isLessThanOrEqualTo(2_000_000_000L);
    Backoff zero = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(2), () -> 0.0);
    assertThat(zero.delayNanos(2, -1)).isZero();
    assertThat(zero.delayNanos(2, 1_500_000_000L)).isEqualTo(1_500_000_000L);
  }
}
