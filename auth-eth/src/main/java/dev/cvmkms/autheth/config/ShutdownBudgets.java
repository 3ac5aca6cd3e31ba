package dev.cvmkms.autheth.config;

import java.time.Duration;
import java.util.Map;

/**
 * The phased-shutdown budgets ({@code SHUTDOWN_PRE_DRAIN_MS}, {@code SHUTDOWN_HTTP_DRAIN_MS},
 * {@code SHUTDOWN_BACKGROUND_DRAIN_MS}, {@code SHUTDOWN_GRACE_PERIOD_MS}), the same phases and
 * rules as the KMS's {@code [shutdown]} table: each 0 … 1 h, and pre + http + background + the
 * cleanup margin must fit in the grace period.
 */
public record ShutdownBudgets(
    Duration preDrain, Duration httpDrain, Duration backgroundDrain, Duration gracePeriod) {
  public static final long MAX_MS = 3_600_000L;

  /** Fixed time reserved for cleanup (closing Vert.x, the final log line). */
  public static final Duration CLEANUP_MARGIN = Duration.ofSeconds(2);

  /** 5 s + 15 s + 5 s + 2 s = 27 s under a 28 s ceiling: fits docker's stop_grace_period 30s. */
  public static final ShutdownBudgets DEFAULTS =
      new ShutdownBudgets(
          Duration.ofSeconds(5),
          Duration.ofSeconds(15),
          Duration.ofSeconds(5),
          Duration.ofSeconds(28));

  public ShutdownBudgets {
    Duration needed = preDrain.plus(httpDrain).plus(backgroundDrain).plus(CLEANUP_MARGIN);
    if (needed.compareTo(gracePeriod) > 0) {
      throw new ConfigException(
          "shutdown budgets exceed SHUTDOWN_GRACE_PERIOD_MS: SHUTDOWN_PRE_DRAIN_MS "
              + preDrain.toMillis()
              + " + SHUTDOWN_HTTP_DRAIN_MS "
              + httpDrain.toMillis()
              + " + SHUTDOWN_BACKGROUND_DRAIN_MS "
              + backgroundDrain.toMillis()
              + " + cleanup margin "
              + CLEANUP_MARGIN.toMillis()
              + " = "
              + needed.toMillis()
              + " ms, but the ceiling SHUTDOWN_GRACE_PERIOD_MS is "
              + gracePeriod.toMillis());
    }
  }

  static ShutdownBudgets fromEnv(Map<String, String> env) {
    return new ShutdownBudgets(
        millis(env, "SHUTDOWN_PRE_DRAIN_MS", DEFAULTS.preDrain()),
        millis(env, "SHUTDOWN_HTTP_DRAIN_MS", DEFAULTS.httpDrain()),
        millis(env, "SHUTDOWN_BACKGROUND_DRAIN_MS", DEFAULTS.backgroundDrain()),
        millis(env, "SHUTDOWN_GRACE_PERIOD_MS", DEFAULTS.gracePeriod()));
  }

  /** 0 … {@link #MAX_MS}; parsed as a long so that no value can overflow into range. */
  private static Duration millis(Map<String, String> env, String key, Duration def) {
    String v = env.get(key);
    if (v == null || v.isBlank()) {
      return def;
    }
    long ms;
    try {
      ms = Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      throw new ConfigException(
          key + " must be a whole number of milliseconds between 0 and " + MAX_MS);
    }
    if (ms < 0 || ms > MAX_MS) {
      throw new ConfigException(
          key + " must be between 0 and " + MAX_MS + " (1 h) milliseconds, got " + ms);
    }
    return Duration.ofMillis(ms);
  }
}
