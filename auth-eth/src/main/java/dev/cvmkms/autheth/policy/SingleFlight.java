package dev.cvmkms.autheth.policy;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Lets identical concurrent operations share one in-flight execution. The entry is removed before
 * the result is delivered, so nothing is ever served to a caller that arrives afterwards: this is
 * de-duplication, not a cache.
 */
public final class SingleFlight<K, V> {
  private final ConcurrentHashMap<K, Future<V>> inFlight = new ConcurrentHashMap<>();
  private final AtomicLong shared = new AtomicLong();

  public Future<V> run(K key, Supplier<Future<V>> operation) {
    Promise<V> promise = Promise.promise();
    Future<V> existing = inFlight.putIfAbsent(key, promise.future());
    if (existing != null) {
      shared.incrementAndGet();
      return existing;
    }
    Future<V> op;
    try {
      op = operation.get();
    } catch (RuntimeException e) {
      op = Future.failedFuture(e);
    }
    op.onComplete(
        ar -> {
          inFlight.remove(key, promise.future());
          promise.handle(ar);
        });
    return promise.future();
  }

  /** How many callers joined an execution started by someone else. */
  public long sharedCount() {
    return shared.get();
  }

  public int inFlightCount() {
    return inFlight.size();
  }
}
