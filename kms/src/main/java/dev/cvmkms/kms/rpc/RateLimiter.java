package dev.cvmkms.kms.rpc;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.cvmkms.kms.config.RateLimitConfig;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import io.github.bucket4j.TimeMeter;
import io.github.bucket4j.local.SynchronizationStrategy;
import java.time.Duration;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * Per-client token buckets (bucket4j) in one bounded Caffeine map with idle expiry: O(1) per
 * request, and at most {@code max_clients} buckets however many distinct clients call. A method
 * with its own {@code [rate_limit.methods.<Method>]} entry has its own bucket per client; all other
 * methods share the client's default bucket.
 *
 * <p>Dropping a bucket is harmless by construction: idle expiry is at least the slowest refill time
 * (checked by {@link RateLimitConfig}), so an expired bucket would have been full anyway. Size
 * eviction (W-TinyLFU) keeps frequently seen clients, so a flood of new addresses evicts the flood,
 * not the heavy caller it would need to evict to reset that caller's bucket.
 */
public final class RateLimiter {
  private record Key(String group, String client) {}

  /** Group of the per-address ceiling buckets; method groups are method names or "". */
  private static final String ADDRESS_GROUP = "@address";

  private final RateLimitConfig config;
  private final TimeMeter time;
  private final Cache<Key, Bucket> buckets;

  /** A limiter on the system clock. */
  public RateLimiter(RateLimitConfig config) {
    this(config, System::nanoTime);
  }

  /**
   * @param nanos the clock for buckets and expiry (tests pass a fake one)
   */
  public RateLimiter(RateLimitConfig config, LongSupplier nanos) {
    this.config = Objects.requireNonNull(config, "config");
    Objects.requireNonNull(nanos, "nanos");
    this.time =
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
    Ticker ticker = nanos::getAsLong;
    this.buckets =
        Caffeine.newBuilder()
            .maximumSize(config.maxClients())
            .expireAfterAccess(config.idleExpiry())
            .ticker(ticker)
            // Maintenance (eviction) runs on the calling thread, amortised O(1); no pool thread.
            .executor(Runnable::run)
            .build();
  }

  /**
   * Takes one token for {@code client} calling {@code method}.
   *
   * @param method the bare method name (unknown names use the default rate)
   * @param client the client key ({@link ClientKey})
   * @return {@link Duration#ZERO} when allowed, else how long until a token is available
   */
  public Duration tryAcquire(String method, String client) {
    if (!config.enabled()) {
      return Duration.ZERO;
    }
    String group = config.perMethod().containsKey(method) ? method : "";
    Key key = new Key(group, client);
    Bucket bucket = buckets.get(key, k -> newBucket(config.rateFor(method)));
    ConsumptionProbe probe = bucket.tryConsumeAndReturnRemaining(1);
    if (probe.isConsumed()) {
      return Duration.ZERO;
    }
    return Duration.ofNanos(Math.max(1, probe.getNanosToWaitForRefill()));
  }

  /**
   * Takes one token for a request: from its client's bucket and, for a client keyed by a
   * certificate's app id, also from its address's ceiling bucket ({@code address_rate}/{@code
   * address_burst}), so certificates minted with fresh app ids cannot multiply an address's rate.
   *
   * @return {@link Duration#ZERO} when allowed, else how long until both buckets have a token
   */
  public Duration tryAcquire(String method, ClientKey.Id client) {
    Duration own = tryAcquire(method, client.bucket());
    if (!own.isZero() || !client.certificate() || !config.enabled()) {
      return own;
    }
    Bucket ceiling =
        buckets.get(
            new Key(ADDRESS_GROUP, client.address()), k -> newBucket(config.addressCeiling()));
    ConsumptionProbe probe = ceiling.tryConsumeAndReturnRemaining(1);
    if (probe.isConsumed()) {
      return Duration.ZERO;
    }
    // the client's token is spent either way: a refused request still cost a parse and a lookup
    return Duration.ofNanos(Math.max(1, probe.getNanosToWaitForRefill()));
  }

  private Bucket newBucket(RateLimitConfig.Rate rate) {
    return Bucket.builder()
        .addLimit(
            limit ->
                limit.capacity(rate.burst()).refillGreedy(rate.perSecond(), Duration.ofSeconds(1)))
        .withCustomTimePrecision(time)
        // Buckets are touched from several event loops; lock-free CAS is bucket4j's default too,
        // but say so: a lock here would serialise the loops.
        .withSynchronizationStrategy(SynchronizationStrategy.LOCK_FREE)
        .build();
  }

  /** Buckets currently held (after pending maintenance); for tests and the bound check. */
  public long size() {
    buckets.cleanUp();
    return buckets.estimatedSize();
  }

  public RateLimitConfig config() {
    return config;
  }
}
