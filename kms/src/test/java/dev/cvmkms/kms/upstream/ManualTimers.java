package dev.cvmkms.kms.upstream;

import dev.cvmkms.kms.attestation.MutableClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Timers driven by a {@link MutableClock}: {@link #advance} moves time and fires what is due. */
final class ManualTimers implements Timers {
  private record Task(long at, long seq, Runnable run) {}

  private final MutableClock clock;
  private final List<Task> tasks = new ArrayList<>();
  private long seq;

  ManualTimers(MutableClock clock) {
    this.clock = clock;
  }

  @Override
  public synchronized void schedule(long delayMillis, Runnable task) {
    tasks.add(new Task(clock.millis() + Math.max(0, delayMillis), seq++, task));
  }

  /** Moves the clock by {@code d}, running every task that falls due, in time order. */
  void advance(Duration d) {
    long end = clock.millis() + d.toMillis();
    while (true) {
      Task next;
      synchronized (this) {
        next =
            tasks.stream()
                .filter(t -> t.at <= end)
                .min(Comparator.comparingLong(Task::at).thenComparingLong(Task::seq))
                .orElse(null);
        if (next != null) {
          tasks.remove(next);
        }
      }
      if (next == null) {
        break;
      }
      if (next.at > clock.millis()) {
        clock.advance(Duration.ofMillis(next.at - clock.millis()));
      }
      next.run.run();
    }
    if (end > clock.millis()) {
      clock.advance(Duration.ofMillis(end - clock.millis()));
    }
  }

  synchronized int pending() {
    return tasks.size();
  }
}
