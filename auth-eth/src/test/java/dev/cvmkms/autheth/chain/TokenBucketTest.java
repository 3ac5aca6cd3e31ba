package dev.cvmkms.autheth.chain;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class TokenBucketTest {
  static final long MS = 1_000_000;

  @Test
  void grantsTheBurstThenSpacesCallsAtTheRate() {
    AtomicLong now = new AtomicLong();
    TokenBucket b = new TokenBucket(10, 3, now::get);
    assertThat(b.reserve(0)).isZero();
    assertThat(b.reserve(0)).isZero();
    assertThat(b.reserve(0)).isZero();
    assertThat(b.reserve(0)).isEqualTo(-1); // nothing reserved
    assertThat(b.reserve(1000 * MS)).isEqualTo(100 * MS);
    assertThat(b.reserve(1000 * MS)).isEqualTo(200 * MS); // queued behind the first reservation
    assertThat(b.reserve(150 * MS)).isEqualTo(-1);
    now.addAndGet(200 * MS);
    assertThat(b.reserve(0)).isEqualTo(-1);
    now.addAndGet(100 * MS);
    assertThat(b.reserve(0)).isZero();
  }

  /** Whatever the demand, granted calls in any window T never exceed burst + rate * T. */
  @Test
  void neverExceedsTheBudgetUnderRandomLoad() {
    AtomicLong now = new AtomicLong();
    double rate = 20;
    int burst = 5;
    TokenBucket b = new TokenBucket(rate, burst, now::get);
    Random random = new Random(42);
    List<Long> sends = new ArrayList<>();
    for (int i = 0; i < 20_000; i++) {
      now.addAndGet((long) (random.nextDouble() * 10 * MS));
      long wait = b.reserve(random.nextInt(3) * 500 * MS);
      if (wait >= 0) {
        sends.add(now.get() + wait);
      }
    }
    sends.sort(Long::compare);
    for (long window : new long[] {100 * MS, 1000 * MS, 10_000 * MS}) {
      int j = 0;
      for (int i = 0; i < sends.size(); i++) {
        while (sends.get(i) - sends.get(j) >= window) {
          j++;
        }
        assertThat(i - j + 1).isLessThanOrEqualTo((int) (burst + rate * window / 1e9) + 1);
      }
    }
    assertThat(sends.size()).isGreaterThan(1000);
  }
}
