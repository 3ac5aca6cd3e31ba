package dev.cvmkms.autheth.policy;

/**
 * Delayed execution, so caches can be driven by Vert.x timers in production and by hand in tests.
 */
public interface Scheduler {
  /** Runs {@code task} once after {@code delayMillis}; returns an id for {@link #cancel}. */
  long schedule(long delayMillis, Runnable task);

  void cancel(long id);
}
