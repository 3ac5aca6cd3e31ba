package dev.cvmkms.kms.upstream;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Where retry waits and attempt timeouts fire. A Vert.x caller passes {@code vertx::setTimer};
 * tests pass a manual scheduler driven by their fake clock.
 */
@FunctionalInterface
public interface Timers {
  void schedule(long delayMillis, Runnable task);

  /** One daemon thread that only fires timers (it never does I/O or crypto). */
  static Timers daemon(String name) {
    ScheduledExecutorService s =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, name);
              t.setDaemon(true);
              return t;
            });
    return (delay, task) -> {
      // Fire and forget, like vertx.setTimer: nothing waits on or cancels the timer.
      ScheduledFuture<?> unused = s.schedule(task, Math.max(0, delay), TimeUnit.MILLISECONDS);
    };
  }
}
