package dev.cvmkms.autheth.policy;

import dev.cvmkms.autheth.chain.RpcException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one value behind {@code GET /}, refreshed ahead of need on a timer so readers never wait on
 * the chain. A failed refresh keeps the last good value (its age keeps growing and is reported) and
 * is retried with backoff, from {@code retry} up to {@code refresh}. Concurrent misses before the
 * first load share one load.
 */
public final class MetadataCache {
  private static final Logger log = LoggerFactory.getLogger(MetadataCache.class);

  /** A loaded value and when it was loaded. */
  public record Snapshot(Metadata value, long loadedAtNanos) {
    public long ageMillis(LongSupplier clock) {
      return Math.max(0, (clock.getAsLong() - loadedAtNanos) / 1_000_000);
    }
  }

  private final Supplier<Future<Metadata>> loader;
  private final Scheduler scheduler;
  private final LongSupplier clock;
  private final long refreshMillis;
  private final long retryMillis;
  private final AtomicReference<Snapshot> current = new AtomicReference<>();
  private final AtomicReference<Future<Snapshot>> inFlight = new AtomicReference<>();
  private volatile long timerId = -1;
  private volatile boolean stopped;
  private int consecutiveFailures;

  public MetadataCache(
      Supplier<Future<Metadata>> loader,
      Scheduler scheduler,
      LongSupplier clock,
      Duration refresh,
      Duration retry) {
    this.loader = loader;
    this.scheduler = scheduler;
    this.clock = clock;
    this.refreshMillis = refresh.toMillis();
    this.retryMillis = Math.min(retry.toMillis(), refresh.toMillis());
  }

  /** Starts the first load; later loads follow on the timer. */
  public Future<Snapshot> start() {
    return load();
  }

  public void stop() {
    stopped = true;
    scheduler.cancel(timerId);
  }

  public Optional<Snapshot> current() {
    return Optional.ofNullable(current.get());
  }

  /** The cached value, or the (shared) first load when nothing was ever loaded. */
  public Future<Snapshot> get() {
    Snapshot s = current.get();
    return s != null ? Future.succeededFuture(s) : load();
  }

  /** Starts a load unless one is running; every caller meanwhile gets the same future. */
  Future<Snapshot> load() {
    Promise<Snapshot> promise = Promise.promise();
    if (!inFlight.compareAndSet(null, promise.future())) {
      Future<Snapshot> running = inFlight.get();
      if (running != null) {
        return running;
      }
      return load();
    }
    Future<Metadata> f;
    try {
      f = loader.get();
    } catch (RuntimeException e) {
      f = Future.failedFuture(e);
    }
    f.onComplete(
        ar -> {
          long next;
          if (ar.succeeded()) {
            Snapshot s = new Snapshot(ar.result(), clock.getAsLong());
            current.set(s);
            synchronized (this) {
              consecutiveFailures = 0;
            }
            next = refreshMillis;
          } else {
            int failures;
            synchronized (this) {
              failures = ++consecutiveFailures;
            }
            next = Math.min(refreshMillis, retryMillis << Math.min(failures - 1, 20));
            log.warn(
                "metadata refresh failed ({}), {}; retry in {} ms",
                ar.cause() instanceof RpcException e
                    ? e.getMessage()
                    : ar.cause().getClass().getSimpleName(),
                current.get() == null ? "no value loaded yet" : "serving the last good value",
                next);
          }
          inFlight.set(null);
          if (!stopped) {
            scheduler.cancel(timerId);
            timerId = scheduler.schedule(next, this::load);
          }
          if (ar.succeeded()) {
            promise.complete(current.get());
          } else {
            promise.fail(ar.cause());
          }
        });
    return promise.future();
  }
}
