package dev.cvmkms.autheth.chain;

import java.util.function.LongSupplier;

/**
 * The outbound budget towards the RPC provider. A caller reserves one token and is told how long to
 * wait for it; reservations go into debt, so over any window of length T at most {@code burst +
 * rate * T} calls are granted, whatever the inbound load.
 */
public final class TokenBucket {
  private final double tokensPerNano;
  private final double capacity;
  private final LongSupplier clock;
  private double tokens;
  private long lastNanos;

  public TokenBucket(double ratePerSecond, int burst, LongSupplier clock) {
    if (ratePerSecond <= 0 || burst < 1) {
      throw new IllegalArgumentException("rate and burst must be positive");
    }
    this.tokensPerNano = ratePerSecond / 1e9;
    this.capacity = burst;
    this.clock = clock;
    this.tokens = burst;
    this.lastNanos = clock.getAsLong();
  }

  /**
   * Reserves one token if it becomes available within {@code maxWaitNanos}.
   *
   * @return the nanoseconds to wait before using it (0 = now), or -1 when not granted (nothing is
   *     reserved then)
   */
  public synchronized long reserve(long maxWaitNanos) {
    long now = clock.getAsLong();
    tokens = Math.min(capacity, tokens + (now - lastNanos) * tokensPerNano);
    lastNanos = now;
    if (tokens >= 1) {
      tokens -= 1;
      return 0;
    }
    long wait = (long) Math.ceil((1 - tokens) / tokensPerNano);
    if (wait > maxWaitNanos) {
      return -1;
    }
    tokens -= 1;
    return wait;
  }
}
