package dev.cvmkms.autheth.chain;

import java.time.Duration;
import java.util.function.DoubleSupplier;

/** Full-jitter exponential backoff: a uniform delay in [0, min(max, base * 2^attempt)). */
public record Backoff(Duration base, Duration max, DoubleSupplier random) {
  /**
   * @param retry 0 for the first retry
   * @param retryAfterNanos the provider's Retry-After, or -1; the delay is never shorter
   */
  public long delayNanos(int retry, long retryAfterNanos) {
    double ceiling = Math.min((double) max.toNanos(), base.toNanos() * Math.pow(2, retry));
    long jittered = (long) (random.getAsDouble() * ceiling);
    return Math.max(jittered, retryAfterNanos);
  }
}
