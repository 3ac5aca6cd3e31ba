package dev.cvmkms.autheth.policy;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Concurrent identical calls share one in-flight upstream call. The entry is removed before its
 * result is handed out, so a result (a denial, an error, or an approval) is only ever seen by
 * callers that arrived while it was in flight: nothing is cached. A joiner gets the result on its
 * own Vert.x context. The same class, with the same test, lives in the KMS (dev.cvmkms.kms.auth).
 */
public final class SingleFlight<K, V> {
  private final Map<K, Future<V>> inFlight = new ConcurrentHashMap<>();
  private final AtomicLong shared = new AtomicLong();

  public Future<V> run(K key, Supplier<Future<V>> call) {
    Promise<V> leader = Promise.promise();
    Future<V> mine = leader.future();
    Future<V> existing = inFlight.putIfAbsent(key, mine);
    if (existing != null) {
      shared.incrementAndGet();
      return onCallerContext(existing);
    }
    Future<V> upstream;
    try {
      upstream = call.get();
    } catch (RuntimeException e) {
      upstream = Future.failedFuture(e);
    }
    upstream.onComplete(
        ar -> {
          inFlight.remove(key, mine);
          leader.handle(ar);
        });
    return mine;
  }

  /** How many callers joined a call started by someone else. */
  public long sharedCount() {
    return shared.get();
  }

  /** Calls in flight now (for tests and diagnostics). */
  public int inFlightCount() {
    return inFlight.size();
  }

  /**
   * A joiner may sit on another event loop than the leader; deliver its result on its own context
   * so its continuation keeps Vert.x's one-thread-per-context rule.
   */
  static <V> Future<V> onCallerContext(Future<V> f) {
    Context ctx = Vertx.currentContext();
    if (ctx == null || f.isComplete()) {
      return f;
    }
    Promise<V> p = Promise.promise();
    f.onComplete(
        ar -> {
          if (Vertx.currentContext() == ctx) {
            p.handle(ar);
          } else {
            ctx.runOnContext(v -> p.handle(ar));
          }
        });
    return p.future();
  }
}
