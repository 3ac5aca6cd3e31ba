package dev.cvmkms.kms.config;

import java.time.Duration;
import java.util.Objects;

/**
 * {@code [core.attestation.pccs]}: the collateral client and its cache.
 *
 * @param client the shared client's bounds (the keys of {@link OutboundClientConfig})
 * @param cacheSize collateral bundles kept, one per (FMSPC, PCK CA) ({@code cache_size})
 * @param refreshAfter a bundle is refreshed in the background this long after it was fetched, or at
 *     half its remaining validity if that comes first; it is never served past its {@code
 *     nextUpdate} ({@code refresh_after}, at most 24 h)
 * @param failureBackoff after a failed fetch for one platform, further fetches for it fail at once
 *     for this long ({@code failure_backoff}); failures are not cached as values
 */
public record PccsConfig(
    OutboundClientConfig client, int cacheSize, Duration refreshAfter, Duration failureBackoff) {
  public static final String TABLE = "core.attestation.pccs";

  public PccsConfig {
    Objects.requireNonNull(client, "client");
    Checks.intRange(TABLE + ".cache_size", cacheSize, 1, 1_000_000);
    Checks.positive(TABLE + ".refresh_after", refreshAfter, Duration.ofHours(24));
    Checks.positive(TABLE + ".failure_backoff", failureBackoff, Duration.ofHours(1));
  }

  /** 2 s / 3 s / 5 s, 8 connections, 1 MiB bodies, 2 retries, 5 failures / 30 s; 1024 bundles. */
  public static PccsConfig defaults() {
    return new PccsConfig(
        OutboundClientConfig.defaults(TABLE).withMaxResponseBytes(ByteSizes.MIB),
        1024,
        Duration.ofHours(1),
        Duration.ofSeconds(10));
  }

  static PccsConfig read(ConfigTable t) {
    PccsConfig d = defaults();
    PccsConfig c =
        new PccsConfig(
            OutboundClientConfig.read(t, d.client()),
            t.integer("cache_size", d.cacheSize()),
            t.duration("refresh_after", d.refreshAfter()),
            t.duration("failure_backoff", d.failureBackoff()));
    t.finish();
    return c;
  }
}
