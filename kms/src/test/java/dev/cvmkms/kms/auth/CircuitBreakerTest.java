package dev.cvmkms.kms.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cvmkms.kms.auth.CircuitBreaker.State;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class CircuitBreakerTest {
  private final AtomicLong now = new AtomicLong();
  private final CircuitBreaker breaker = new CircuitBreaker(3, 1_000, now::get);

  @Test
  void opensOnlyAfterNConsecutiveFailures() {
    breaker.onFailure();
    breaker.onFailure();
    breaker.onSuccess(); // resets the run
    breaker.onFailure();
    breaker.onFailure();
    assertThat(breaker.state()).isEqualTo(State.CLOSED);

    breaker.onFailure();

    assertThat(breaker.state()).isEqualTo(State.OPEN);
    assertThat(breaker.tryAcquire()).isFalse();
  }

  @Test
  void afterTheResetPeriod_exactlyOneProbeGoesOut() {
    for (int i = 0; i < 3; i++) {
      breaker.onFailure();
    }
    now.set(999);
    assertThat(breaker.tryAcquire()).isFalse();

    now.set(1_000);
    assertThat(breaker.tryAcquire()).isTrue();
    assertThat(breaker.state()).isEqualTo(State.HALF_OPEN);
    assertThat(breaker.tryAcquire()).as("second caller while probing").isFalse();

    breaker.onSuccess();
    assertThat(breaker.state()).isEqualTo(State.CLOSED);
    assertThat(breaker.tryAcquire()).isTrue();
  }

  @Test
  void aFailedProbe_reopensForAFullPeriod() {
    for (int i = 0; i < 3; i++) {
      breaker.onFailure();
    }
    now.set(1_000);
    assertThat(breaker.tryAcquire()).isTrue();

    breaker.onFailure();

    assertThat(breaker.state()).isEqualTo(State.OPEN);
    now.set(1_999);
    assertThat(breaker.tryAcquire()).isFalse();
    now.set(2_000);
    assertThat(breaker.tryAcquire()).isTrue();
  }

  @Test
  void aNeutralProbeOutcome_freesTheProbeSlot() {
    for (int i = 0; i < 3; i++) {
      breaker.onFailure();
    }
    now.set(1_000);
    assertThat(breaker.tryAcquire()).isTrue();

    breaker.onNeutral();

    assertThat(breaker.state()).isEqualTo(State.HALF_OPEN);
    assertThat(breaker.tryAcquire()).isTrue();
  }
}
