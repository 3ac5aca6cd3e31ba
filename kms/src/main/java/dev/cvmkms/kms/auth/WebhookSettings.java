package dev.cvmkms.kms.auth;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;

/**
 * {@code [core.auth_api.webhook]}: where the auth webhook is and how hard the KMS may lean on it.
 * Every bound is validated here, at start-up, with a message naming the config key.
 *
 * @param url the webhook base URL; {@code GET <url>} for metadata, {@code POST
 *     <url>/bootAuth/app|kms} for decisions. May carry userinfo (sent as Basic auth) and a query;
 *     neither ever appears in logs or errors (see {@link #redactedUrl()}).
 * @param connectTimeout time to obtain a connection (including the wait for a pooled one)
 * @param attemptTimeout one HTTP exchange, request sent to last body byte
 * @param deadline one webhook operation, all retries and backoff included
 * @param maxConnections the connection pool bound
 * @param maxResponseBytes a larger response body is an error and is not read further
 * @param maxRetries retries of idempotent GETs (decisions are never retried)
 * @param breakerFailures consecutive failed attempts that open the circuit
 * @param breakerReset how long the circuit stays open before one probe is let through
 * @param infoRefresh how often the metadata is refreshed in the background
 * @param infoMaxStale metadata older than this is dropped rather than served
 */
public record WebhookSettings(
    String url,
    Duration connectTimeout,
    Duration attemptTimeout,
    Duration deadline,
    int maxConnections,
    int maxResponseBytes,
    int maxRetries,
    int breakerFailures,
    Duration breakerReset,
    Duration infoRefresh,
    Duration infoMaxStale) {

  private static final String KEY = "core.auth_api.webhook.";

  public WebhookSettings {
    requireUrl(url);
    requirePositive(connectTimeout, "connect_timeout");
    requirePositive(attemptTimeout, "attempt_timeout");
    requirePositive(deadline, "deadline");
    requirePositive(breakerReset, "breaker_reset");
    requirePositive(infoRefresh, "info_refresh");
    requirePositive(infoMaxStale, "info_max_stale");
    if (attemptTimeout.compareTo(deadline) > 0) {
      throw invalid("attempt_timeout", "must not exceed " + KEY + "deadline (" + deadline + ")");
    }
    if (connectTimeout.compareTo(deadline) > 0) {
      throw invalid("connect_timeout", "must not exceed " + KEY + "deadline (" + deadline + ")");
    }
    if (deadline.compareTo(Duration.ofMinutes(5)) > 0) {
      throw invalid("deadline", "must be at most 5 minutes");
    }
    if (infoMaxStale.compareTo(infoRefresh) < 0) {
      throw invalid(
          "info_max_stale", "must be at least " + KEY + "info_refresh (" + infoRefresh + ")");
    }
    requireRange(maxConnections, 1, 1024, "max_connections");
    requireRange(maxResponseBytes, 1024, 16 * 1024 * 1024, "max_response_bytes");
    requireRange(maxRetries, 0, 10, "max_retries");
    requireRange(breakerFailures, 1, 1000, "breaker_failures");
  }

  /** The documented defaults: 2 s / 3 s / 5 s, 8 connections, 64 KiB, 2 retries, 5 failures. */
  public static WebhookSettings defaults(String url) {
    return new WebhookSettings(
        url,
        Duration.ofSeconds(2),
        Duration.ofSeconds(3),
        Duration.ofSeconds(5),
        8,
        64 * 1024,
        2,
        5,
        Duration.ofSeconds(30),
        Duration.ofSeconds(60),
        Duration.ofHours(24));
  }

  /** The URL without userinfo, query or fragment: the only form that goes into logs and errors. */
  public String redactedUrl() {
    URI u = URI.create(url);
    StringBuilder sb = new StringBuilder().append(u.getScheme()).append("://").append(u.getHost());
    if (u.getPort() >= 0) {
      sb.append(':').append(u.getPort());
    }
    if (u.getRawPath() != null) {
      sb.append(u.getRawPath());
    }
    return sb.toString();
  }

  @Override
  public String toString() {
    return "WebhookSettings[url="
        + redactedUrl()
        + ", connectTimeout="
        + connectTimeout
        + ", attemptTimeout="
        + attemptTimeout
        + ", deadline="
        + deadline
        + ", maxConnections="
        + maxConnections
        + ", maxResponseBytes="
        + maxResponseBytes
        + ", maxRetries="
        + maxRetries
        + ", breakerFailures="
        + breakerFailures
        + ", breakerReset="
        + breakerReset
        + ", infoRefresh="
        + infoRefresh
        + ", infoMaxStale="
        + infoMaxStale
        + "]";
  }

  private static void requireUrl(String url) {
    if (url == null || url.isBlank()) {
      throw invalid("url", "is required");
    }
    URI u;
    try {
      u = new URI(url);
    } catch (URISyntaxException e) {
      // The input may hold credentials: say where it is wrong, not what it says.
      throw invalid("url", "is not a valid URL (error at index " + e.getIndex() + ")");
    }
    String scheme = u.getScheme();
    if (scheme == null || !(scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https"))) {
      throw invalid("url", "must be an http:// or https:// URL");
    }
    if (u.getHost() == null || u.getHost().isEmpty()) {
      throw invalid("url", "must name a host");
    }
    if (u.getRawFragment() != null) {
      throw invalid("url", "must not have a #fragment");
    }
  }

  private static void requirePositive(Duration d, String key) {
    if (d == null) {
      throw invalid(key, "is required");
    }
    if (d.isNegative() || d.isZero()) {
      throw invalid(key, "must be positive, got " + d);
    }
    if (d.toMillis() < 1) {
      throw invalid(key, "must be at least 1 ms, got " + d);
    }
  }

  private static void requireRange(int v, int min, int max, String key) {
    if (v < min || v > max) {
      throw invalid(key, "must be between " + min + " and " + max + ", got " + v);
    }
  }

  private static IllegalArgumentException invalid(String key, String what) {
    return new IllegalArgumentException(KEY + key + " " + what);
  }
}
