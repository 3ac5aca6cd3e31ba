package dev.cvmkms.autheth.http;

import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import io.github.bucket4j.TimeMeter;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * One token bucket (bucket4j) for the whole listener, off by default: the KMS in front limits per
 * client; this only caps what reaches the chain provider if something else calls auth-eth.
 */
public final class GlobalLimiter {
  private final Bucket bucket;

  public GlobalLimiter(int ratePerSecond, int burst, LongSupplier nanos) {
    TimeMeter time =
        new TimeMeter() {
          @Override
          public long currentTimeNanos() {
            return nanos.getAsLong();
          }

          @Override
          public boolean isWallClockBased() {
            return false;
          }
        };
    this.bucket =
        Bucket.builder()
            .addLimit(l -> l.capacity(burst).refillGreedy(ratePerSecond, Duration.ofSeconds(1)))
            .withCustomTimePrecision(time)
            .build();
  }

  /** {@link Duration#ZERO} when a token was taken, else the time until the next one. */
  public Duration tryAcquire() {
    ConsumptionProbe probe = bucket.tryConsumeAndReturnRemaining(1);
    return probe.isConsumed()
        ? Duration.ZERO
        : Duration.ofNanos(Math.max(1, probe.getNanosToWaitForRefill()));
  }
}
