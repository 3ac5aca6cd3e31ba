package dev.cvmkms.kms.config;

import java.time.Duration;
import java.util.Objects;

/**
 * {@code [shutdown]}: the budgets of the phased shutdown on SIGTERM/SIGINT, in phase order.
 *
 * @param preDrain how long readiness answers 503 while requests are still served, so that load
 *     balancers notice before the listener stops accepting ({@code pre_drain})
 * @param httpDrain how long in-flight requests may finish after the listener stopped accepting;
 *     what is left is then closed ({@code http_drain})
 * @param backgroundDrain one budget shared by all background work: cache refreshers, outbound
 *     clients, the audit log flush ({@code background_drain})
 * @param gracePeriod the ceiling: the orchestrator's kill deadline ({@code grace_period}); the
 *     three budgets plus {@link #CLEANUP_MARGIN} must fit in it
 */
public record ShutdownConfig(
    Duration preDrain, Duration httpDrain, Duration backgroundDrain, Duration gracePeriod) {
  /** No single budget may exceed this; it also keeps every sum far from overflow. */
  public static final Duration MAX = Duration.ofHours(1);

  /** Fixed time reserved for cleanup (closing Vert.x, the final log line) after the budgets. */
  public static final Duration CLEANUP_MARGIN = Duration.ofSeconds(2);

  /** 5 s + 15 s + 5 s + 2 s = 27 s, under a 28 s ceiling: fits docker's stop_grace_period 30s. */
  public static final ShutdownConfig DEFAULTS =
      new ShutdownConfig(
          Duration.ofSeconds(5),
          Duration.ofSeconds(15),
          Duration.ofSeconds(5),
          Duration.ofSeconds(28));

  public ShutdownConfig {
    Checks.range("shutdown.pre_drain", preDrain, Duration.ZERO, MAX);
    Checks.range("shutdown.http_drain", httpDrain, Duration.ZERO, MAX);
    Checks.range("shutdown.background_drain", backgroundDrain, Duration.ZERO, MAX);
    Checks.range("shutdown.grace_period", gracePeriod, Duration.ZERO, MAX);
    Duration needed = preDrain.plus(httpDrain).plus(backgroundDrain).plus(CLEANUP_MARGIN);
    if (needed.compareTo(gracePeriod) > 0) {
      throw new ConfigException(
          "shutdown.grace_period",
          "shutdown budgets exceed shutdown.grace_period: pre_drain "
              + Durations.format(preDrain)
              + " + http_drain "
              + Durations.format(httpDrain)
              + " + background_drain "
              + Durations.format(backgroundDrain)
              + " + cleanup margin "
              + Durations.format(CLEANUP_MARGIN)
              + " = "
              + Durations.format(needed)
              + ", but the ceiling grace_period is "
              + Durations.format(gracePeriod));
    }
  }

  /** Short budgets for {@code kms dev}: no load balancer to wait for. */
  public static ShutdownConfig forDev() {
    return new ShutdownConfig(
        Duration.ZERO, Duration.ofSeconds(5), Duration.ofSeconds(3), Duration.ofSeconds(10));
  }

  /** This config with another HTTP drain budget (the deprecated {@code rpc.shutdown_grace}). */
  public ShutdownConfig withHttpDrain(Duration http) {
    return new ShutdownConfig(preDrain, Objects.requireNonNull(http), backgroundDrain, gracePeriod);
  }
}
