package dev.cvmkms.ansible;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** Stops a child process by PID: TERM, then KILL after a grace period. */
final class Stop {
  private Stop() {}

  /**
   * Waits at most {@code grace} for a TERM to work, then kills. An interrupt still kills the child
   * (nothing is left running) and is passed on to the caller's thread.
   */
  static void process(Process process, Duration grace) {
    process.destroy();
    try {
      if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
