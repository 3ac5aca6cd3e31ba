package dev.cvmkms.autheth.chain;

import java.time.Duration;
import java.util.function.LongSupplier;

/** The time left for one inbound request, shared by every upstream attempt it makes. */
public record Deadline(long atNanos, LongSupplier clock) {
  public static Deadline after(Duration budget, LongSupplier clock) {
    return new Deadline(clock.getAsLong() + budget.toNanos(), clock);
  }

  public long remainingNanos() {
    return atNanos - clock.getAsLong();
  }

  public long remainingMillis() {
    return Math.max(0, remainingNanos() / 1_000_000);
  }

  public boolean expired() {
    return remainingNanos() <= 0;
  }
}
