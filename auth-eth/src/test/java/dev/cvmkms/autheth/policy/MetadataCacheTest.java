package dev.cvmkms.autheth.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cvmkms.autheth.chain.RpcException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class MetadataCacheTest {
  final ManualScheduler clock = new ManualScheduler();
  final List<Promise<Metadata>> loads = new ArrayList<>();
  final MetadataCache cache =
      new MetadataCache(
          () -> {
            Promise<Metadata> p = Promise.promise();
            loads.add(p);
            return p.future();
          },
          clock,
          clock::nanos,
          Duration.ofSeconds(60),
          Duration.ofSeconds(5));

  static Metadata meta(String gateway) {
    return new Metadata(31337, gateway, "0x5FbDB2315678afecb367f032d93F642f64180aa3");
  }

  static RpcException throttled() {
    return new RpcException(RpcException.Kind.THROTTLED, "HTTP 429");
  }

  @Test
  void concurrentMissesShareOneLoad() {
    Future<MetadataCache.Snapshot> a = cache.start();
    Future<MetadataCache.Snapshot> b = cache.get();
    Future<MetadataCache.Snapshot> c = cache.get();
    assertThat(loads).hasSize(1);
    assertThat(b).isSameAs(a);
    assertThat(c).isSameAs(a);
    loads.get(0).complete(meta("gw"));
    assertThat(c.result().value().gatewayAppId()).isEqualTo("gw");
    assertThat(cache.get().result().value().gatewayAppId()).isEqualTo("gw");
    assertThat(loads).hasSize(1);
  }

  @Test
  void refreshesAheadOnTheTimerWithoutReaders() {
    cache.start();
    loads.get(0).complete(meta("v1"));
    clock.advance(59_999);
    assertThat(loads).hasSize(1);
    clock.advance(1);
    assertThat(loads).hasSize(2);
    assertThat(cache.current().orElseThrow().value().gatewayAppId()).isEqualTo("v1");
    loads.get(1).complete(meta("v2"));
    assertThat(cache.current().orElseThrow().value().gatewayAppId()).isEqualTo("v2");
    assertThat(cache.current().orElseThrow().ageMillis(clock::nanos)).isZero();
  }

  @Test
  void keepsTheLastGoodValueWhenRefreshFailsAndReportsItsAge() {
    cache.start();
    loads.get(0).complete(meta("good"));
    clock.advance(60_000);
    loads.get(1).fail(throttled());
    // Served, growing older; reads never start loads of their own.
    for (int i = 0; i < 100; i++) {
      assertThat(cache.get().result().value().gatewayAppId()).isEqualTo("good");
    }
    assertThat(loads).hasSize(2);
    assertThat(cache.current().orElseThrow().ageMillis(clock::nanos)).isEqualTo(60_000);
    // Retries back off: 5 s, then 10 s, then 20 s ... capped at the refresh interval.
    clock.advance(5_000);
    assertThat(loads).hasSize(3);
    loads.get(2).fail(throttled());
    clock.advance(9_999);
    assertThat(loads).hasSize(3);
    clock.advance(1);
    assertThat(loads).hasSize(4);
    loads.get(3).complete(meta("recovered"));
    assertThat(cache.get().result().value().gatewayAppId()).isEqualTo("recovered");
    assertThat(cache.current().orElseThrow().ageMillis(clock::nanos)).isZero();
  }

  @Test
  void failsOnlyWhileNothingWasEverLoaded() {
    Future<MetadataCache.Snapshot> first = cache.start();
    loads.get(0).fail(throttled());
    assertThat(first.failed()).isTrue();
    assertThat(cache.current()).isEmpty();
    Future<MetadataCache.Snapshot> miss = cache.get(); // a reader may trigger a load now
    assertThat(loads).hasSize(2);
    loads.get(1).complete(meta("late"));
    assertThat(miss.result().value().gatewayAppId()).isEqualTo("late");
    assertThat(clock.pending()).isEqualTo(1); // exactly one timer survives
  }

  @Test
  void stopCancelsTheTimer() {
    cache.start();
    loads.get(0).complete(meta("v1"));
    cache.stop();
    clock.advance(600_000);
    assertThat(loads).hasSize(1);
  }
}
