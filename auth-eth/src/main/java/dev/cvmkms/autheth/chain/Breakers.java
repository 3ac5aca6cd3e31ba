package dev.cvmkms.autheth.chain;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig.SlidingWindowType;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.micrometer.tagged.TaggedCircuitBreakerMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * Every breaker of the process is built here, with one meaning: a count-based window of the last
 * {@code failures} recorded calls that opens when all of them failed (so: after {@code failures}
 * consecutive failures), stays open for {@code reset}, then lets exactly one probe through. The
 * breaker needs no thread of its own: callers use {@code tryAcquirePermission}, then {@code
 * onSuccess}, {@code onError}, or {@code releasePermission} for an outcome that says nothing about
 * the upstream (a local refusal). The same class, with the same test, lives in the KMS
 * (dev.cvmkms.kms.upstream).
 */
public final class Breakers {
  private Breakers() {}

  /**
   * A breaker named {@code name}; with {@code meters}, Resilience4j's own meters ({@code
   * resilience4j.circuitbreaker.*}, tagged {@code name}) are bound too.
   */
  public static CircuitBreaker create(
      String name, int failures, Duration reset, Clock clock, @Nullable MeterRegistry meters) {
    CircuitBreakerRegistry breakers = CircuitBreakerRegistry.of(config(failures, reset, clock));
    CircuitBreaker breaker = breakers.circuitBreaker(name);
    if (meters != null) {
      TaggedCircuitBreakerMetrics.ofCircuitBreakerRegistry(breakers).bindTo(meters);
    }
    return breaker;
  }

  static CircuitBreakerConfig config(int failures, Duration reset, Clock clock) {
    if (failures < 1) {
      throw new IllegalArgumentException("breaker failures must be >= 1");
    }
    return CircuitBreakerConfig.custom()
        .slidingWindow(failures, failures, SlidingWindowType.COUNT_BASED)
        .failureRateThreshold(100)
        .slowCallRateThreshold(100)
        .slowCallDurationThreshold(Duration.ofDays(1))
        .waitDurationInOpenState(reset)
        .permittedNumberOfCallsInHalfOpenState(1)
        .automaticTransitionFromOpenToHalfOpenEnabled(false)
        .writableStackTraceEnabled(false)
        .clock(clock)
        .build();
  }

  /** A {@link Clock} reading a nanosecond supplier (auth-eth's injected clock). */
  public static Clock clockOf(java.util.function.LongSupplier nanos) {
    return new Clock() {
      @Override
      public java.time.ZoneId getZone() {
        return java.time.ZoneOffset.UTC;
      }

      @Override
      public Clock withZone(java.time.ZoneId zone) {
        return this;
      }

      @Override
      public java.time.Instant instant() {
        return java.time.Instant.EPOCH.plusNanos(nanos.getAsLong());
      }

      @Override
      public long millis() {
        return nanos.getAsLong() / 1_000_000;
      }
    };
  }

  /**
   * The gauge value of a state: 0 closed, 1 half-open, 2 open (the encoding {@code
   * kms.auth.webhook.breaker.state} has always used); forced/disabled states count as open/closed.
   */
  public static int gauge(CircuitBreaker.State state) {
    return switch (state) {
      case CLOSED, DISABLED, METRICS_ONLY -> 0;
      case HALF_OPEN -> 1;
      case OPEN, FORCED_OPEN -> 2;
    };
  }
}
