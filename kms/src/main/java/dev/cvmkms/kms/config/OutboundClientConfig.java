package dev.cvmkms.kms.config;

import java.time.Duration;

/**
 * Budgets of one shared outbound HTTP client (ARCHITECTURE §4). Every value is bounded so that no
 * upstream can hold an inbound request longer than {@link #deadline()}. The settings live in the
 * table of the dependency they serve; key names in messages are those of {@code
 * [core.auth_api.webhook]}, the only such table so far.
 *
 * @param connectTimeout TCP+TLS connect bound ({@code connect_timeout})
 * @param attemptTimeout bound on one attempt, connect included ({@code attempt_timeout})
 * @param deadline total bound per inbound request, retries included ({@code deadline})
 * @param maxConnections connection pool size ({@code max_connections})
 * @param maxResponseBytes larger responses are refused ({@code max_response_bytes})
 * @param maxRetries retries after the first attempt, idempotent GETs only ({@code max_retries})
 * @param breakerFailures consecutive failures that open the circuit breaker ({@code
 *     breaker_failures})
 * @param breakerReset time the breaker stays open before one probe ({@code breaker_reset})
 */
public record OutboundClientConfig(
    Duration connectTimeout,
    Duration attemptTimeout,
    Duration deadline,
    int maxConnections,
    long maxResponseBytes,
    int maxRetries,
    int breakerFailures,
    Duration breakerReset) {
  private static final String P = "core.auth_api.webhook.";

  public static final Duration MAX_CONNECT_TIMEOUT = Duration.ofSeconds(60);
  public static final Duration MAX_ATTEMPT_TIMEOUT = Duration.ofMinutes(2);
  public static final Duration MAX_DEADLINE = Duration.ofMinutes(5);
  public static final Duration MAX_BREAKER_RESET = Duration.ofHours(1);
  public static final int MAX_CONNECTIONS = 1024;
  public static final int MAX_RETRIES = 5;

  public OutboundClientConfig {
    Checks.positive(P + "connect_timeout", connectTimeout, MAX_CONNECT_TIMEOUT);
    Checks.positive(P + "attempt_timeout", attemptTimeout, MAX_ATTEMPT_TIMEOUT);
    Checks.positive(P + "deadline", deadline, MAX_DEADLINE);
    if (connectTimeout.compareTo(attemptTimeout) > 0) {
      throw new ConfigException(
          P + "connect_timeout",
          P
              + "connect_timeout must not exceed "
              + P
              + "attempt_timeout (an attempt includes"
              + " connecting)");
    }
    if (deadline.compareTo(attemptTimeout) < 0) {
      throw new ConfigException(
          P + "deadline", P + "deadline must be at least " + P + "attempt_timeout");
    }
    Checks.intRange(P + "max_connections", maxConnections, 1, MAX_CONNECTIONS);
    Checks.bytes(P + "max_response_bytes", maxResponseBytes, ByteSizes.KIB, 10 * ByteSizes.MIB);
    Checks.intRange(P + "max_retries", maxRetries, 0, MAX_RETRIES);
    Checks.intRange(P + "breaker_failures", breakerFailures, 1, 1000);
    Checks.positive(P + "breaker_reset", breakerReset, MAX_BREAKER_RESET);
  }

  /** 2 s connect, 3 s per attempt, 5 s in total, 8 connections, 64 KiB, 2 retries, 5 / 30 s. */
  public static OutboundClientConfig defaults() {
    return new OutboundClientConfig(
        Duration.ofSeconds(2),
        Duration.ofSeconds(3),
        Duration.ofSeconds(5),
        8,
        64 * ByteSizes.KIB,
        2,
        5,
        Duration.ofSeconds(30));
  }
}
