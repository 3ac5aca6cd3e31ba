package dev.cvmkms.autheth.config;

import java.time.Duration;

/**
 * Limits of the one shared JSON-RPC client: time budgets, pool, retries, the outbound token bucket
 * and the circuit breaker.
 */
public record RpcSettings(
    Duration connectTimeout,
    Duration attemptTimeout,
    Duration deadline,
    int maxRetries,
    Duration backoffBase,
    Duration backoffMax,
    Duration maxRetryAfter,
    int poolSize,
    int poolQueue,
    double ratePerSecond,
    int burst,
    int breakerFailures,
    Duration breakerReset,
    int maxResponseBytes) {

  public static RpcSettings defaults() {
    return new RpcSettings(
        Duration.ofSeconds(2),
        Duration.ofSeconds(3),
        Duration.ofSeconds(5),
        2,
        Duration.ofMillis(100),
        Duration.ofSeconds(2),
        Duration.ofSeconds(30),
        8,
        64,
        20,
        20,
        5,
        Duration.ofSeconds(30),
        1 << 20);
  }
}
