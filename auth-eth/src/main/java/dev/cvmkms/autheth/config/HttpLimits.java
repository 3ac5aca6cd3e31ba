package dev.cvmkms.autheth.config;

import java.time.Duration;

/**
 * Limits of the HTTP listener, from {@code HTTP_*} and {@code RATE_LIMIT_*} variables (ours; see
 * the README).
 *
 * @param headerTimeout a new connection's first request head must arrive within this ({@code
 *     HTTP_HEADER_TIMEOUT_MS}); a kept-alive connection's next one within {@code idleTimeout}
 * @param bodyTimeout the whole body within this of the head, else 408 ({@code
 *     HTTP_BODY_TIMEOUT_MS})
 * @param idleTimeout no traffic for this long closes a connection ({@code HTTP_IDLE_TIMEOUT_MS})
 * @param maxHeaderBytes header lines together, beyond: 431 ({@code HTTP_MAX_HEADER_BYTES})
 * @param maxHeaders header fields, beyond: 431 ({@code HTTP_MAX_HEADERS})
 * @param maxUrlBytes the request line, beyond: 414 ({@code HTTP_MAX_URL_BYTES})
 * @param maxConnections open connections per listener ({@code HTTP_MAX_CONNECTIONS})
 * @param maxConnectionsPerAddress per remote address ({@code HTTP_MAX_CONNECTIONS_PER_ADDRESS})
 * @param noBodyLimit largest body of routes that take none, beyond: 413 ({@code
 *     HTTP_NO_BODY_LIMIT_BYTES})
 * @param ratePerSecond global limit on {@code GET /} and {@code /bootAuth/*}; 0 is off, the default
 *     ({@code RATE_LIMIT_PER_SEC})
 * @param burst requests allowed at once ({@code RATE_LIMIT_BURST})
 */
public record HttpLimits(
    Duration headerTimeout,
    Duration bodyTimeout,
    Duration idleTimeout,
    int maxHeaderBytes,
    int maxHeaders,
    int maxUrlBytes,
    int maxConnections,
    int maxConnectionsPerAddress,
    int noBodyLimit,
    int ratePerSecond,
    int burst) {
  public HttpLimits {
    if (maxConnectionsPerAddress > maxConnections) {
      throw new ConfigException(
          "HTTP_MAX_CONNECTIONS_PER_ADDRESS must not exceed HTTP_MAX_CONNECTIONS");
    }
  }

  public static HttpLimits defaults() {
    return new HttpLimits(
        Duration.ofSeconds(10),
        Duration.ofSeconds(30),
        Duration.ofSeconds(72),
        16384,
        100,
        8192,
        1024,
        128,
        1024,
        0,
        100);
  }

  public boolean rateLimited() {
    return ratePerSecond > 0;
  }
}
