package dev.cvmkms.kms.auth;

import dev.cvmkms.kms.KmsException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * GetMeta's view of the webhook metadata ({@code GET <url>}), so that GetMeta never waits on the
 * chain behind the webhook (dstack called it on every GetMeta, with no timeout).
 *
 * <ul>
 *   <li>A Vert.x periodic timer refreshes the value every {@code refresh}, whether or not anyone
 *       reads it (refresh-ahead); reads never trigger a refresh of a loaded value.
 *   <li>A failed refresh keeps the last good value; {@link #age()} and the {@code
 *       kms.auth.info.age} gauge say how old it is. Failing refreshes run at most once per period,
 *       and the client's circuit breaker makes them fail fast, so a down webhook is not hammered.
 *   <li>Before the first value, readers wait for one load (at most the client's deadline);
 *       concurrent readers share that single upstream call.
 *   <li><b>Staleness bound:</b> a value older than {@code maxStale} is dropped. GetMeta then fails
 *       (after one bounded load attempt) instead of serving ancient metadata, on the view that a
 *       contract address or chain id a day out of date is worse than a clear error.
 * </ul>
 *
 * <p>One value, so no Caffeine: its {@code refreshAfterWrite} refreshes on reads and, while the
 * upstream fails, starts another reload on every read (spec java-stack §5), the opposite of what is
 * wanted here.
 */
public final class AuthInfoCache {
  private static final Logger log = LoggerFactory.getLogger(AuthInfoCache.class);

  private record Snapshot(AuthInfo value, long fetchedAtNanos) {}

  /**
   * Why an upstream load started: the first load at {@link #start()}, the periodic refresh, or a
   * read that found no usable value. Counted as {@code kms.auth.info.loads} by reason, so a test or
   * an operator can tell reads that reached the webhook from the refresh schedule.
   */
  public enum LoadReason {
    START,
    REFRESH,
    READ;

    String tag() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private final Vertx vertx;
  private final Supplier<Future<AuthInfo>> loader;
  private final long refreshMs;
  private final long maxStaleNanos;
  private final LongSupplier clock;
  private final AtomicReference<@Nullable Snapshot> current = new AtomicReference<>();
  private final AtomicReference<@Nullable Future<AuthInfo>> loading = new AtomicReference<>();
  private volatile boolean everLoaded;
  private volatile @Nullable String lastError;
  private volatile long timerId = -1;
  private final Map<LoadReason, Counter> loads = new EnumMap<>(LoadReason.class); // every reason

  public AuthInfoCache(
      Vertx vertx,
      Supplier<Future<AuthInfo>> loader,
      Duration refresh,
      Duration maxStale,
      MeterRegistry registry) {
    this(vertx, loader, refresh, maxStale, registry, System::nanoTime);
  }

  AuthInfoCache(
      Vertx vertx,
      Supplier<Future<AuthInfo>> loader,
      Duration refresh,
      Duration maxStale,
      MeterRegistry registry,
      LongSupplier clock) {
    this.vertx = vertx;
    this.loader = loader;
    this.refreshMs = Math.max(1, refresh.toMillis());
    this.maxStaleNanos = maxStale.toNanos();
    this.clock = clock;
    Gauge.builder("kms.auth.info.age", this, AuthInfoCache::ageSeconds)
        .description("Age of the cached auth webhook metadata (NaN before the first load)")
        .baseUnit("seconds")
        .strongReference(true)
        .register(registry);
    for (LoadReason r : LoadReason.values()) {
      loads.put(
          r,
          Counter.builder("kms.auth.info.loads")
              .description("Upstream metadata loads started, by what caused them")
              .tag("reason", r.tag())
              .register(registry));
    }
  }

  /** Starts the first load and the periodic refresh. Idempotent. */
  public synchronized void start() {
    if (timerId >= 0) {
      return;
    }
    timerId = vertx.setPeriodic(refreshMs, id -> refresh());
    load(LoadReason.START);
  }

  /** Stops the periodic refresh. */
  public synchronized void close() {
    if (timerId >= 0) {
      vertx.cancelTimer(timerId);
      timerId = -1;
    }
  }

  /**
   * The metadata: immediately once a value has loaded; before that (or after it expired) the shared
   * load, failing with {@code auth api metadata not available yet: <cause>}.
   */
  public Future<AuthInfo> get() {
    Snapshot s = fresh();
    if (s != null) {
      return Future.succeededFuture(s.value);
    }
    boolean expired = everLoaded;
    return load(LoadReason.READ)
        .recover(
            e ->
                Future.failedFuture(
                    new KmsException(
                        KmsException.Kind.UPSTREAM_UNAVAILABLE,
                        (expired
                                ? "auth api metadata expired (no successful refresh for "
                                    + Duration.ofNanos(maxStaleNanos)
                                    + "): "
                                : "auth api metadata not available yet: ")
                            + e.getMessage(),
                        e)));
  }

  /** How old the value being served is; empty before the first load or after expiry. */
  public Optional<Duration> age() {
    Snapshot s = fresh();
    return s == null
        ? Optional.empty()
        : Optional.of(Duration.ofNanos(clock.getAsLong() - s.fetchedAtNanos));
  }

  /** Why the last load failed, if it did (cleared by the next success); safe to show. */
  public Optional<String> lastError() {
    return Optional.ofNullable(lastError);
  }

  private double ageSeconds() {
    return age().map(d -> d.toNanos() / 1e9).orElse(Double.NaN);
  }

  /** The current snapshot if within maxStale; drops it otherwise. */
  private @Nullable Snapshot fresh() {
    Snapshot s = current.get();
    if (s == null) {
      return null;
    }
    if (clock.getAsLong() - s.fetchedAtNanos > maxStaleNanos) {
      if (current.compareAndSet(s, null)) {
        log.error(
            "auth api metadata dropped: no successful refresh for {}; GetMeta fails until one succeeds",
            Duration.ofNanos(maxStaleNanos));
      }
      return null;
    }
    return s;
  }

  private void refresh() {
    fresh(); // drop an expired value even if nobody reads
    load(LoadReason.REFRESH);
  }

  /**
   * One upstream GET at a time; concurrent callers join it (and are not counted: they caused no
   * load).
   */
  private Future<AuthInfo> load(LoadReason reason) {
    Future<AuthInfo> inFlight = loading.get();
    if (inFlight != null) {
      return SingleFlight.onCallerContext(inFlight);
    }
    Promise<AuthInfo> p = Promise.promise();
    if (!loading.compareAndSet(null, p.future())) {
      Future<AuthInfo> other = loading.get();
      return other == null ? load(reason) : SingleFlight.onCallerContext(other);
    }
    Objects.requireNonNull(loads.get(reason), "the constructor registers every reason").increment();
    Future<AuthInfo> upstream;
    try {
      upstream = loader.get();
    } catch (RuntimeException e) {
      upstream = Future.failedFuture(e);
    }
    upstream.onComplete(
        ar -> {
          if (ar.succeeded()) {
            current.set(new Snapshot(ar.result(), clock.getAsLong()));
            everLoaded = true;
            if (lastError != null) {
              log.info("auth api metadata refreshed again");
              lastError = null;
            }
          } else {
            lastError = ar.cause().getMessage();
            Snapshot s = current.get();
            log.warn(
                "auth api metadata refresh failed{}: {}",
                s == null
                    ? " (no value yet)"
                    : "; serving the last good value, "
                        + TimeUnit.NANOSECONDS.toMillis(clock.getAsLong() - s.fetchedAtNanos)
                        + " ms old",
                ar.cause().getMessage());
          }
          loading.set(null);
          p.handle(ar);
        });
    return p.future();
  }
}
