package dev.cvmkms.kms.config;

import java.time.Duration;

/**
 * Budgets of one shared outbound HTTP client (ARCHITECTURE §4). Every value is bounded so that no
 * upstream can hold an inbound request longer than {@link #deadline()}. The settings live in the
 * table of the dependency they serve ({@code [core.auth_api.webhook]}, {@code
 * [core.attestation.pccs]}, {@code [core.attestation.guest_agent]}, {@code [core.image.verifier]});
 * messages name the key in that table. This is the one settings record of every outbound client,
 * the webhook's included, with one set of bounds.
 *
 * @param table the dotted table the keys are read from, e.g. {@code core.attestation.pccs}
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
    String table,
    Duration connectTimeout,
    Duration attemptTimeout,
    Duration deadline,
    int maxConnections,
    long maxResponseBytes,
    int maxRetries,
    int breakerFailures,
    Duration breakerReset) {
  public static final String WEBHOOK = "core.auth_api.webhook";

  public static final Duration MAX_CONNECT_TIMEOUT = Duration.ofSeconds(60);
  public static final Duration MAX_ATTEMPT_TIMEOUT = Duration.ofMinutes(2);
  public static final Duration MAX_DEADLINE = Duration.ofMinutes(5);
  public static final Duration MAX_BREAKER_RESET = Duration.ofHours(1);
  public static final int MAX_CONNECTIONS = 1024;
  public static final int MAX_RETRIES = 5;

  public OutboundClientConfig {
    Checks.notBlank("table", table);
    String P = table + ".";
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
  public static OutboundClientConfig defaults(String table) {
    return new OutboundClientConfig(
        table,
        Duration.ofSeconds(2),
        Duration.ofSeconds(3),
        Duration.ofSeconds(5),
        8,
        64 * ByteSizes.KIB,
        2,
        5,
        Duration.ofSeconds(30));
  }

  /** The webhook's defaults. */
  public static OutboundClientConfig defaults() {
    return defaults(WEBHOOK);
  }

  /**
   * The same bounds with a different total deadline (and attempt timeout if it would exceed it).
   */
  public OutboundClientConfig withDeadline(Duration d) {
    Duration attempt = attemptTimeout.compareTo(d) > 0 ? d : attemptTimeout;
    Duration connect = connectTimeout.compareTo(attempt) > 0 ? attempt : connectTimeout;
    return new OutboundClientConfig(
        table,
        connect,
        attempt,
        d,
        maxConnections,
        maxResponseBytes,
        maxRetries,
        breakerFailures,
        breakerReset);
  }

  /** The same bounds with a different response cap. */
  public OutboundClientConfig withMaxResponseBytes(long bytes) {
    return new OutboundClientConfig(
        table,
        connectTimeout,
        attemptTimeout,
        deadline,
        maxConnections,
        bytes,
        maxRetries,
        breakerFailures,
        breakerReset);
  }

  /**
   * Reads the keys of one client table ({@code connect_timeout}, {@code attempt_timeout}, {@code
   * deadline}, {@code max_connections}, {@code max_response_bytes}, {@code max_retries}, {@code
   * breaker_failures}, {@code breaker_reset}); the caller finishes the table.
   */
  static OutboundClientConfig read(ConfigTable t, OutboundClientConfig d) {
    return new OutboundClientConfig(
        d.table(),
        t.duration("connect_timeout", d.connectTimeout()),
        t.duration("attempt_timeout", d.attemptTimeout()),
        t.duration("deadline", d.deadline()),
        t.integer("max_connections", d.maxConnections()),
        t.bytes("max_response_bytes", d.maxResponseBytes()),
        t.integer("max_retries", d.maxRetries()),
        t.integer("breaker_failures", d.breakerFailures()),
        t.duration("breaker_reset", d.breakerReset()));
  }
}
