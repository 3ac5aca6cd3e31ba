package dev.cvmkms.kms.upstream;

import java.time.Duration;
import java.util.function.DoubleSupplier;

/**
 * Full-jitter exponential backoff: a uniform delay in [0, min(max, base * 2^retry)), never shorter
 * than the upstream's Retry-After. The same record, with the same test, lives in auth-eth.
 *
 * @param random uniform in [0, 1); injectable so tests pin the delay
 */
public record Backoff(Duration base, Duration max, DoubleSupplier random) {
  /** 100 ms growing to at most 2 s. */
  public static Backoff standard(DoubleSupplier random) {
    return new Backoff(Duration.ofMillis(100), Duration.ofSeconds(2), random);
  }

  /**
   * The delay before retry number {@code retry}, in nanoseconds.
   *
   * @param retry 0 for the first retry
   * @param retryAfterNanos the upstream's Retry-After, or -1; the delay is never shorter
   */
  public long delayNanos(int retry, long retryAfterNanos) {
    double ceiling =
        Math.min((double) max.toNanos(), base.toNanos() * Math.pow(2, Math.min(retry, 30)));
    long jittered = (long) (random.getAsDouble() * ceiling);
    return Math.max(jittered, retryAfterNanos);
  }
}
