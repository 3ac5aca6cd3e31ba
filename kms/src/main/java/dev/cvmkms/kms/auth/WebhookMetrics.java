package dev.cvmkms.kms.auth;

import dev.cvmkms.kms.auth.WebhookClient.Operation;
import dev.cvmkms.kms.auth.WebhookException.Outcome;
import dev.cvmkms.kms.upstream.Breakers;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The webhook client's meters: {@code kms.auth.webhook.calls} (timer by operation and outcome,
 * retries included), {@code kms.auth.webhook.retries} (counter by operation) and {@code
 * kms.auth.webhook.breaker.state} (0 closed, 1 half-open, 2 open). Timers are registered on first
 * use of an (operation, outcome) pair, with a few fixed latency buckets rather than a full
 * percentile histogram, to keep {@code /metrics} short.
 */
final class WebhookMetrics {
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

  private final MeterRegistry registry;
  private final Map<String, Timer> calls = new ConcurrentHashMap<>();
  private final Map<Operation, Counter> retries = new EnumMap<>(Operation.class); // every op

  WebhookMetrics(MeterRegistry registry, CircuitBreaker breaker) {
    this.registry = registry;
    Gauge.builder("kms.auth.webhook.breaker.state", breaker, b -> Breakers.gauge(b.getState()))
        .description("Auth webhook circuit: 0 closed, 1 half-open, 2 open")
        .strongReference(true)
        .register(registry);
    for (Operation op : Operation.values()) {
      retries.put(
          op,
          Counter.builder("kms.auth.webhook.retries")
              .description("Auth webhook GET retries")
              .tag("operation", op.tag())
              .register(registry));
    }
  }

  void call(Operation op, Outcome outcome, long nanos) {
    calls
        .computeIfAbsent(
            op.tag() + '/' + outcome.tag(),
            k ->
                Timer.builder("kms.auth.webhook.calls")
                    .description("Auth webhook calls, retries included, by operation and outcome")
                    .tag("operation", op.tag())
                    .tag("outcome", outcome.tag())
                    .serviceLevelObjectives(BUCKETS)
                    .register(registry))
        .record(nanos, TimeUnit.NANOSECONDS);
  }

  void retry(Operation op) {
    Objects.requireNonNull(retries.get(op), "the constructor registers every operation")
        .increment();
  }
}
