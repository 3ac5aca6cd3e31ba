package dev.cvmkms.autheth.testing;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** Ends a test's child process by PID: the one stop routine the modules' test helpers share. */
public final class ChildProcess {
  private ChildProcess() {}

  /**
   * SIGTERM, then up to {@code grace} for a graceful exit, then SIGKILL. An interrupt while waiting
   * still kills the child (nothing is left running) and stays set on the caller's thread.
   */
  public static void stop(Process process, Duration grace) {
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
