package dev.cvmkms.autheth.chain;

import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import io.github.bucket4j.TimeMeter;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * The outbound budget towards the RPC provider: a bucket4j token bucket of {@code burst} tokens
 * refilled greedily at {@code ratePerSecond}, so over any window of length T at most {@code burst +
 * rate * T} calls go out, whatever the inbound load. Never blocks: a caller either takes a token
 * now or learns how long until the next one (and waits on its own timer, or gives up).
 */
public final class OutboundBudget {
  private final Bucket bucket;

  public OutboundBudget(double ratePerSecond, int burst, LongSupplier nanoClock) {
    if (ratePerSecond <= 0 || burst < 1) {
      throw new IllegalArgumentException("rate and burst must be positive");
    }
    // Tokens per 1000 s keeps fractional rates (e.g. 0.5/s) exact.
    long perKilosecond = Math.max(1, Math.round(ratePerSecond * 1000));
    this.bucket =
        Bucket.builder()
            .addLimit(
                limit ->
                    limit.capacity(burst).refillGreedy(perKilosecond, Duration.ofSeconds(1000)))
            .withCustomTimePrecision(
                new TimeMeter() {
                  @Override
                  public long currentTimeNanos() {
                    return nanoClock.getAsLong();
                  }

                  @Override
                  public boolean isWallClockBased() {
                    return false;
                  }
                })
            .build();
  }

  /** 0 when a token was taken; else the nanoseconds until one is free (nothing is taken). */
  public long tryTake() {
    ConsumptionProbe p = bucket.tryConsumeAndReturnRemaining(1);
    return p.isConsumed() ? 0 : Math.max(1, p.getNanosToWaitForRefill());
  }

  /** Tokens available now. */
  public long available() {
    return bucket.getAvailableTokens();
  }
}
