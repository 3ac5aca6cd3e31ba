package dev.cvmkms.kms.attestation.dcap;

import dev.cvmkms.kms.attestation.AttestationException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Caches collateral per {@link CollateralSource.Key} (FMSPC, PCK CA) for at most {@code maxAge} (≤
 * 24 h) and never past the bundle's own {@code nextUpdate}. Concurrent misses for one key make one
 * upstream call. If a refresh fails, the previous bundle is served until its {@code nextUpdate}, so
 * a PCCS outage does not stop verification while the collateral is still valid.
 */
public final class CachingCollateralSource implements CollateralSource {
  private static final Logger LOG = LoggerFactory.getLogger(CachingCollateralSource.class);
  public static final Duration MAX_AGE_LIMIT = Duration.ofHours(24);

  private final CollateralSource upstream;
  private final Clock clock;
  private final Duration maxAge;
  private final ConcurrentHashMap<Key, Slot> slots = new ConcurrentHashMap<>();

  private record Entry(Collateral collateral, Instant refreshAt, Instant hardExpiry) {}

  /** One per key: its lock makes concurrent misses wait for a single fetch. */
  private static final class Slot {
    volatile Entry entry;
  }

  public CachingCollateralSource(CollateralSource upstream, Clock clock, Duration maxAge) {
    this.upstream = Objects.requireNonNull(upstream, "upstream");
    this.clock = Objects.requireNonNull(clock, "clock");
    if (maxAge.isNegative() || maxAge.isZero() || maxAge.compareTo(MAX_AGE_LIMIT) > 0) {
      throw new IllegalArgumentException("collateral cache age must be in (0, 24h]");
    }
    this.maxAge = maxAge;
  }

  @Override
  public Collateral fetch(Key key) {
    Slot slot = slots.computeIfAbsent(key, k -> new Slot());
    Entry e = slot.entry;
    Instant now = clock.instant();
    if (e != null && now.isBefore(e.refreshAt())) {
      return e.collateral();
    }
    synchronized (slot) {
      e = slot.entry;
      now = clock.instant();
      if (e != null && now.isBefore(e.refreshAt())) {
        return e.collateral();
      }
      try {
        Collateral fresh = upstream.fetch(key);
        Instant hard = fresh.nextUpdate();
        Instant refresh = now.plus(maxAge);
        slot.entry = new Entry(fresh, refresh.isBefore(hard) ? refresh : hard, hard);
        return fresh;
      } catch (AttestationException ex) {
        if (e != null && now.isBefore(e.hardExpiry())) {
          LOG.warn(
              "collateral refresh for FMSPC {} failed ({}); serving the cached bundle valid"
                  + " until {}",
              key.fmspc(),
              ex.getMessage(),
              e.hardExpiry());
          return e.collateral();
        }
        throw ex;
      }
    }
  }

  /** Drops every cached bundle (tests, operator action). */
  public void clear() {
    slots.clear();
  }
}
