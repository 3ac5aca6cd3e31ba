package dev.cvmkms.autheth.chain;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The bucket4j outbound budget on a fake clock. */
class OutboundBudgetTest {
  static final long MS = 1_000_000;

  @Test
  void grantsTheBurstThenSaysHowLongUntilTheNextToken() {
    AtomicLong now = new AtomicLong();
    OutboundBudget b = new OutboundBudget(10, 3, now::get);
    assertThat(b.tryTake()).isZero();
    assertThat(b.tryTake()).isZero();
    assertThat(b.tryTake()).isZero();
    assertThat(b.tryTake()).isEqualTo(100 * MS); // nothing taken
    assertThat(b.tryTake()).isEqualTo(100 * MS);
    now.addAndGet(99 * MS);
    assertThat(b.tryTake()).isEqualTo(MS);
    now.addAndGet(MS);
    assertThat(b.tryTake()).isZero();
    assertThat(b.tryTake()).isEqualTo(100 * MS);
  }

  /** Whatever the demand, granted calls in any window T never exceed burst + rate * T. */
  @Test
  void neverExceedsTheBudgetUnderRandomLoad() {
    AtomicLong now = new AtomicLong();
    double rate = 20;
    int burst = 5;
    OutboundBudget b = new OutboundBudget(rate, burst, now::get);
    Random random = new Random(42);
    List<Long> sends = new ArrayList<>();
    for (int i = 0; i < 20_000; i++) {
      now.addAndGet((long) (random.nextDouble() * 10 * MS));
      if (b.tryTake() == 0) {
        sends.add(now.get());
      }
    }
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

  @Test
  void fractionalRatesAreKept() {
    AtomicLong now = new AtomicLong();
    OutboundBudget b = new OutboundBudget(0.5, 1, now::get);
    assertThat(b.tryTake()).isZero();
    assertThat(b.tryTake()).isEqualTo(2_000 * MS);
  }
}
