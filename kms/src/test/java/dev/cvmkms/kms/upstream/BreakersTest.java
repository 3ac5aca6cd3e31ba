package dev.cvmkms.kms.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreaker.State;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The breaker semantics, pinned identically in auth-eth's BreakersTest. */
class BreakersTest {
  private Instant now = Instant.parse("2026-01-01T00:00:00Z");
  private final Clock clock =
      new Clock() {
        @Override
        public java.time.ZoneId getZone() {
          return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
          return this;
        }

        @Override
        public Instant instant() {
          return now;
        }
      };
  private final CircuitBreaker breaker =
      Breakers.create("test", 3, Duration.ofSeconds(1), clock, null);

  private void fail() {
    assertThat(breaker.tryAcquirePermission()).isTrue();
    breaker.onError(1, TimeUnit.MILLISECONDS, new RuntimeException("x"));
  }

  private void succeed() {
    assertThat(breaker.tryAcquirePermission()).isTrue();
    breaker.onSuccess(1, TimeUnit.MILLISECONDS);
  }

  private void trip() {
    for (int i = 0; i < 3; i++) {
      fail();
    }
    assertThat(breaker.getState()).isEqualTo(State.OPEN);
  }

  @Test
  void opensOnlyAfterNConsecutiveFailures() {
    fail();
    fail();
    succeed(); // breaks the run
    fail();
    fail();
    assertThat(breaker.getState()).isEqualTo(State.CLOSED);

    fail();

    assertThat(breaker.getState()).isEqualTo(State.OPEN);
    assertThat(breaker.tryAcquirePermission()).isFalse();
  }

  @Test
  void once_theResetPeriodHasPassed_exactlyOneProbeGoesOut() {
    trip();
    now = now.plusMillis(1_000);
    assertThat(breaker.tryAcquirePermission()).isFalse();

    now = now.plusMillis(1);
    assertThat(breaker.tryAcquirePermission()).isTrue();
    assertThat(breaker.getState()).isEqualTo(State.HALF_OPEN);
    assertThat(breaker.tryAcquirePermission()).as("second caller while probing").isFalse();

    breaker.onSuccess(1, TimeUnit.MILLISECONDS);
    assertThat(breaker.getState()).isEqualTo(State.CLOSED);
    assertThat(breaker.tryAcquirePermission()).isTrue();
  }

  @Test
  void aFailedProbe_reopensForAFullPeriod() {
    trip();
    now = now.plusMillis(1_001);
    assertThat(breaker.tryAcquirePermission()).isTrue();

    breaker.onError(1, TimeUnit.MILLISECONDS, new RuntimeException("x"));

    assertThat(breaker.getState()).isEqualTo(State.OPEN);
    now = now.plusMillis(1_000);
    assertThat(breaker.tryAcquirePermission()).isFalse();
    now = now.plusMillis(1);
    assertThat(breaker.tryAcquirePermission()).isTrue();
  }

  @Test
  void aNeutralOutcome_movesNothing() {
    fail();
    fail();
    for (int i = 0; i < 100; i++) {
      assertThat(breaker.tryAcquirePermission()).isTrue();
      breaker.releasePermission(); // a local refusal says nothing about the upstream
    }
    assertThat(breaker.getState()).isEqualTo(State.CLOSED);
    fail();
    assertThat(breaker.getState()).as("the run of failures was not broken").isEqualTo(State.OPEN);
  }

  @Test
  void aNeutralProbeOutcome_freesTheProbeSlot() {
    trip();
    now = now.plusMillis(1_001);
    assertThat(breaker.tryAcquirePermission()).isTrue();

    breaker.releasePermission();

    assertThat(breaker.getState()).isEqualTo(State.HALF_OPEN);
    assertThat(breaker.tryAcquirePermission()).isTrue();
  }

  @Test
  void gaugeEncoding_isZeroClosedOneHalfOpenTwoOpen() {
    assertThat(Breakers.gauge(State.CLOSED)).isZero();
    assertThat(Breakers.gauge(State.HALF_OPEN)).isEqualTo(1);
    assertThat(Breakers.gauge(State.OPEN)).isEqualTo(2);
  }
}
