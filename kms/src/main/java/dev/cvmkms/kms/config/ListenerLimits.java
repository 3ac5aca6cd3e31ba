package dev.cvmkms.kms.config;

import java.time.Duration;

/**
 * {@code [limits]}: what every listener of the KMS (main, onboarding, admin) accepts from one
 * connection (ours). A slow or idle client holds a connection for at most the deadlines below, and
 * there are at most {@code maxConnections} of them, {@code maxConnectionsPerAddress} per remote
 * address.
 *
 * @param headerTimeout a new connection must complete its TLS handshake and deliver its first
 *     request head within this; a kept-alive connection its next head within {@code idleTimeout}
 *     ({@code header_timeout})
 * @param bodyTimeout the whole request body must arrive within this of the head ({@code
 *     body_timeout}); a slower sender gets 408 and the connection is closed
 * @param idleTimeout a connection with no traffic is closed after this ({@code idle_timeout})
 * @param maxHeaderSize all header lines together, in bytes; beyond: 431 ({@code max_header_size})
 * @param maxHeaders header fields; beyond: 431 ({@code max_headers})
 * @param maxUrlLength the request line, in bytes; beyond: 414 ({@code max_url_length})
 * @param maxConnections open connections per listener; more are closed at once ({@code
 *     max_connections}); also kept below the process's file descriptor limit
 * @param maxConnectionsPerAddress open connections per remote address ({@code
 *     max_connections_per_address})
 * @param noBodyLimit the largest body accepted by routes that take none (health, metrics, unknown
 *     paths); beyond: 413 and close ({@code no_body_limit})
 */
public record ListenerLimits(
    Duration headerTimeout,
    Duration bodyTimeout,
    Duration idleTimeout,
    long maxHeaderSize,
    int maxHeaders,
    long maxUrlLength,
    int maxConnections,
    int maxConnectionsPerAddress,
    long noBodyLimit) {
  private static final Duration MAX_TIMEOUT = Duration.ofHours(1);

  public ListenerLimits {
    Checks.range("limits.header_timeout", headerTimeout, Duration.ofMillis(10), MAX_TIMEOUT);
    Checks.range("limits.body_timeout", bodyTimeout, Duration.ofMillis(10), MAX_TIMEOUT);
    Checks.range("limits.idle_timeout", idleTimeout, Duration.ofSeconds(1), MAX_TIMEOUT);
    Checks.bytes("limits.max_header_size", maxHeaderSize, ByteSizes.KIB, ByteSizes.MIB);
    Checks.intRange("limits.max_headers", maxHeaders, 8, 10_000);
    Checks.bytes("limits.max_url_length", maxUrlLength, 256, 64 * ByteSizes.KIB);
    Checks.intRange("limits.max_connections", maxConnections, 1, 1_000_000);
    Checks.intRange(
        "limits.max_connections_per_address", maxConnectionsPerAddress, 1, maxConnections);
    Checks.bytes("limits.no_body_limit", noBodyLimit, 0, 64 * ByteSizes.KIB);
  }

  /** 10 s head, 30 s body, 60 s idle, 16 KiB / 100 headers, 8 KiB URL, 1024 and 128 connections. */
  public static ListenerLimits defaults() {
    return new ListenerLimits(
        Duration.ofSeconds(10),
        Duration.ofSeconds(30),
        Duration.ofSeconds(60),
        16 * ByteSizes.KIB,
        100,
        8 * ByteSizes.KIB,
        1024,
        128,
        ByteSizes.KIB);
  }
}
