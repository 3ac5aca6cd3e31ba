package dev.cvmkms.autheth.chain;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cvmkms.autheth.chain.CircuitBreaker.State;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class CircuitBreakerTest {
  @Test
  void opensAfterConsecutiveFailuresAndProbesOnce() {
    AtomicLong now = new AtomicLong();
    CircuitBreaker b = new CircuitBreaker(5, 30_000_000_000L, now::get);
    for (int i = 0; i < 4; i++) {
      assertThat(b.tryAcquire()).isTrue();
      b.onFailure();
    }
    b.onSuccess(); // a success resets the count
    for (int i = 0; i < 5; i++) {
      assertThat(b.tryAcquire()).isTrue();
      b.onFailure();
    }
    assertThat(b.state()).isEqualTo(State.OPEN);
    assertThat(b.wouldAllow()).isFalse();
    assertThat(b.tryAcquire()).isFalse();
    now.addAndGet(30_000_000_000L);
    assertThat(b.state()).isEqualTo(State.HALF_OPEN);
    assertThat(b.tryAcquire()).isTrue();
    assertThat(b.tryAcquire()).isFalse(); // one probe only
    b.onFailure();
    assertThat(b.state()).isEqualTo(State.OPEN);
    now.addAndGet(30_000_000_000L);
    assertThat(b.tryAcquire()).isTrue();
    b.onSuccess();
    assertThat(b.state()).isEqualTo(State.CLOSED);
    assertThat(b.tryAcquire()).isTrue();
  }
}
