package dev.cvmkms.kms.auth;

import dev.cvmkms.kms.attestation.BootInfo;
import dev.cvmkms.kms.config.AuthApiConfig;
import dev.cvmkms.kms.config.OutboundClientConfig;
import java.net.URI;
import java.time.Duration;
import java.util.List;

/** Short settings and sample BootInfos so the fault tests stay fast. */
final class Fixtures {
  private Fixtures() {}

  /**
   * How far past its deadline a bounded call may complete. The alternative the tests rule out is
   * waiting on a fake that never answers, so the bound can be generous: a loaded 2-core CI machine
   * fires timers late, and a tight figure made these tests depend on machine speed.
   */
  static final Duration SLACK = Duration.ofSeconds(3);

  /** The metadata refresh the cache tests drive (shorter than the config allows). */
  static final Duration INFO_REFRESH = Duration.ofMillis(200);

  static final Duration INFO_MAX_STALE = Duration.ofSeconds(5);

  /**
   * connect 1 s, attempt 1 s, deadline 2.5 s, 4 connections, 4 KiB, 2 retries: short enough for
   * fault tests, long enough that a loaded 2-core CI machine does not turn a healthy call into a
   * timeout.
   */
  static AuthApiConfig.Webhook fast(String url) {
    return settings(url, 1_000, 1_000, 2_500, 3, 300);
  }

  static AuthApiConfig.Webhook settings(
      String url,
      long connectMs,
      long attemptMs,
      long deadlineMs,
      int breakerFailures,
      long breakerResetMs) {
    return webhook(
        url,
        new OutboundClientConfig(
            OutboundClientConfig.WEBHOOK,
            Duration.ofMillis(connectMs),
            Duration.ofMillis(attemptMs),
            Duration.ofMillis(deadlineMs),
            4,
            4096,
            2,
            breakerFailures,
            Duration.ofMillis(breakerResetMs)));
  }

  static AuthApiConfig.Webhook webhook(String url, OutboundClientConfig client) {
    return new AuthApiConfig.Webhook(
        URI.create(url), client, Duration.ofSeconds(1), Duration.ofSeconds(5));
  }

  static BootInfo boot(String appId) {
    return new BootInfo(
        "dstack-tdx",
        "a".repeat(64),
        "b".repeat(64),
        "c".repeat(64),
        appId,
        "d".repeat(64),
        "e".repeat(40),
        "f".repeat(64),
        "",
        "UpToDate",
        List.of());
  }

  static BootInfo boot() {
    return boot("0123456789abcdef0123456789abcdef01234567");
  }
}
