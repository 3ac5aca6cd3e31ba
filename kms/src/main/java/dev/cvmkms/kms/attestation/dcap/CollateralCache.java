package dev.cvmkms.kms.attestation.dcap;

import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import dev.cvmkms.kms.attestation.AttestationException;
import dev.cvmkms.kms.attestation.AttestationException.Reason;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Collateral per (FMSPC, PCK CA), bounded in size (Caffeine):
 *
 * <ul>
 *   <li>an entry expires hard at its bundle's {@code nextUpdate} (the earliest of TCB Info, QE
 *       Identity and both CRLs), so nothing is served past its validity;
 *   <li>it is refreshed in the background {@code refreshAfter} after it was fetched, or at half its
 *       remaining validity if that is sooner, so CRLs and TCB Info are renewed before they lapse; a
 *       failed refresh keeps the old bundle and is retried after {@code failureBackoff};
 *   <li>concurrent misses for one key share one fetch;
 *   <li>a failed fetch is not cached as a value, but further misses for that key fail at once for
 *       {@code failureBackoff} (a bounded negative cache), so a dead PCCS is not asked per request.
 * </ul>
 *
 * Callers must only {@link #fetch} for keys of quotes whose PCK chain verified and is current
 * ({@link DcapVerifier#fetchableCollateralKey}); {@link
 * dev.cvmkms.kms.attestation.AttestationVerifier} does.
 */
public final class CollateralCache implements CollateralSource {
  private static final Logger LOG = LoggerFactory.getLogger(CollateralCache.class);

  private final CollateralSource upstream;
  private final Clock clock;
  private final Duration refreshAfter;
  private final Duration failureBackoff;
  private final AsyncCache<Key, Entry> entries;
  private final Cache<Key, AttestationException> failures;
  private final Set<Key> refreshing = ConcurrentHashMap.newKeySet();
  private final AtomicLong upstreamFetches = new AtomicLong();

  private static final class Entry {
    final Collateral collateral;
    final long hardExpiryMillis;
    volatile long refreshAtMillis;

    Entry(Collateral collateral, long hardExpiryMillis, long refreshAtMillis) {
      this.collateral = collateral;
      this.hardExpiryMillis = hardExpiryMillis;
      this.refreshAtMillis = refreshAtMillis;
    }
  }

  public CollateralCache(
      CollateralSource upstream,
      Clock clock,
      int maxEntries,
      Duration refreshAfter,
      Duration failureBackoff) {
    this.upstream = Objects.requireNonNull(upstream, "upstream");
    this.clock = Objects.requireNonNull(clock, "clock");
    if (maxEntries < 1) {
      throw new IllegalArgumentException("maxEntries must be positive");
    }
    if (refreshAfter.isNegative()
        || refreshAfter.isZero()
        || refreshAfter.compareTo(Duration.ofHours(24)) > 0) {
      throw new IllegalArgumentException("refreshAfter must be in (0, 24h]");
    }
    this.refreshAfter = refreshAfter;
    this.failureBackoff = Objects.requireNonNull(failureBackoff, "failureBackoff");
    this.entries =
        Caffeine.newBuilder()
            .maximumSize(maxEntries)
            .ticker(() -> clock.millis() * 1_000_000L)
            .executor(Runnable::run)
            .expireAfter(
                new Expiry<Key, Entry>() {
                  @Override
                  public long expireAfterCreate(Key k, Entry e, long now) {
                    return left(e);
                  }

                  @Override
                  public long expireAfterUpdate(Key k, Entry e, long now, long current) {
                    return left(e);
                  }

                  @Override
                  public long expireAfterRead(Key k, Entry e, long now, long current) {
                    return current;
                  }
                })
            .buildAsync();
    this.failures =
        Caffeine.newBuilder()
            .maximumSize(maxEntries)
            .ticker(() -> clock.millis() * 1_000_000L)
            .executor(Runnable::run)
            .expireAfterWrite(failureBackoff)
            .build();
  }

  private long left(Entry e) {
    return Math.max(0, e.hardExpiryMillis - clock.millis()) * 1_000_000L;
  }

  @Override
  public Optional<Collateral> cached(Key key) {
    CompletableFuture<Entry> f = entries.getIfPresent(key);
    if (f == null || !f.isDone() || f.isCompletedExceptionally()) {
      return Optional.empty();
    }
    Entry e = f.join();
    long now = clock.millis();
    if (now >= e.hardExpiryMillis) {
      return Optional.empty();
    }
    if (now >= e.refreshAtMillis) {
      refresh(key, e, now);
    }
    return Optional.of(e.collateral);
  }

  @Override
  public CompletionStage<Collateral> fetch(Key key) {
    Optional<Collateral> hit = cached(key);
    if (hit.isPresent()) {
      return CompletableFuture.completedFuture(hit.get());
    }
    AttestationException recent = failures.getIfPresent(key);
    if (recent != null) {
      return CompletableFuture.failedFuture(
          new AttestationException(
              Reason.COLLATERAL_UNAVAILABLE,
              recent.getMessage() + " (not retried for " + failureBackoff.toSeconds() + " s)"));
    }
    return entries.get(key, (k, executor) -> load(k)).thenApply(e -> e.collateral);
  }

  private CompletableFuture<Entry> load(Key key) {
    upstreamFetches.incrementAndGet();
    CompletableFuture<Entry> f;
    try {
      f = upstream.fetch(key).toCompletableFuture().thenApply(this::entry);
    } catch (RuntimeException e) {
      f = CompletableFuture.failedFuture(e);
    }
    return f.whenComplete(
        (e, ex) -> {
          if (ex != null) {
            failures.put(key, asAttestation(ex));
          }
        });
  }

  private Entry entry(Collateral c) {
    long now = clock.millis();
    long hard = c.nextUpdate().toEpochMilli();
    long refresh = Math.min(now + refreshAfter.toMillis(), now + Math.max(0, (hard - now) / 2));
    return new Entry(c, hard, refresh);
  }

  private void refresh(Key key, Entry old, long now) {
    if (!refreshing.add(key)) {
      return;
    }
    // Until this refresh completes (or fails) nobody else starts one for this key.
    old.refreshAtMillis = now + failureBackoff.toMillis();
    upstreamFetches.incrementAndGet();
    CompletionStage<Collateral> f;
    try {
      f = upstream.fetch(key);
    } catch (RuntimeException e) {
      f = CompletableFuture.failedFuture(e);
    }
    f.whenComplete(
        (c, ex) -> {
          refreshing.remove(key);
          if (ex == null) {
            entries.put(key, CompletableFuture.completedFuture(entry(c)));
          } else {
            LOG.warn(
                "collateral refresh for FMSPC {} failed ({}); serving the cached bundle valid"
                    + " until {}",
                key.fmspc(),
                asAttestation(ex).getMessage(),
                Instant.ofEpochMilli(old.hardExpiryMillis));
          }
        });
  }

  private static AttestationException asAttestation(Throwable ex) {
    Throwable t = ex instanceof CompletionException && ex.getCause() != null ? ex.getCause() : ex;
    if (t instanceof AttestationException a) {
      return a;
    }
    return new AttestationException(
        Reason.COLLATERAL_UNAVAILABLE, "collateral fetch failed: " + t.getClass().getSimpleName());
  }

  /** Bundles cached now (approximate). */
  public long size() {
    return entries.synchronous().estimatedSize();
  }

  /** Upstream fetches started so far (misses and refreshes). */
  public long upstreamFetches() {
    return upstreamFetches.get();
  }

  /** Drops every cached bundle and failure (tests, operator action). */
  public void clear() {
    entries.synchronous().invalidateAll();
    failures.invalidateAll();
  }
}
