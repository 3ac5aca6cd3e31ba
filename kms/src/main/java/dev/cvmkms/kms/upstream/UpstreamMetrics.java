package dev.cvmkms.kms.upstream;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * Per-upstream meters: timer {@code kms.upstream.calls} by {@code upstream} and {@code outcome}
 * (one sample per call, retries included; Prometheus {@code kms_upstream_calls_seconds_*}), counter
 * {@code kms.upstream.retries} and gauge {@code kms.upstream.breaker.state} (0 closed, 1 half-open,
 * 2 open, as {@code kms.auth.webhook.breaker.state}).
 */
final class UpstreamMetrics {
  private static final Duration[] BUCKETS = {
    Duration.ofMillis(5),
    Duration.ofMillis(10),
    Duration.ofMillis(25),
    Duration.ofMillis(50),
    Duration.ofMillis(100),
    Duration.ofMillis(250),
    Duration.ofMillis(500),
    Duration.ofSeconds(1),
    Duration.ofMillis(2500),
    Duration.ofSeconds(5),
    Duration.ofSeconds(10)
  };

  private final Map<Outcome, Timer> calls = new EnumMap<>(Outcome.class); // every outcome
  private final Counter retries;

  UpstreamMetrics(MeterRegistry registry, String upstream, CircuitBreaker breaker) {
    for (Outcome o : Outcome.values()) {
      calls.put(
          o,
          Timer.builder("kms.upstream.calls")
              .description("Upstream calls, retries included, by upstream and outcome")
              .tag("upstream", upstream)
              .tag("outcome", o.tag())
              .serviceLevelObjectives(BUCKETS)
              .register(registry));
    }
    retries =
        Counter.builder("kms.upstream.retries")
            .description("Upstream attempts after the first (idempotent reads only)")
            .tag("upstream", upstream)
            .register(registry);
    Gauge.builder("kms.upstream.breaker.state", breaker, b -> Breakers.gauge(b.getState()))
        .description("Upstream circuit: 0 closed, 1 half-open, 2 open")
        .tag("upstream", upstream)
        .strongReference(true)
        .register(registry);
  }

  void call(Outcome outcome, long nanos) {
    Objects.requireNonNull(calls.get(outcome), "the constructor registers every outcome")
        .record(nanos, TimeUnit.NANOSECONDS);
  }

  void retry() {
    retries.increment();
  }
}
