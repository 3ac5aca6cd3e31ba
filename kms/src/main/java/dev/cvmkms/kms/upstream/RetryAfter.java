package dev.cvmkms.kms.upstream;

import java.time.Clock;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import org.jspecify.annotations.Nullable;

/**
 * RFC 9110 {@code Retry-After}: delay-seconds or an HTTP-date, capped at one hour. The same class,
 * with the same test, lives in auth-eth.
 */
public final class RetryAfter {
  public static final Duration CAP = Duration.ofHours(1);

  private RetryAfter() {}

  /** The delay in nanoseconds, or -1 when the header is absent or unreadable. */
  public static long nanos(@Nullable String value, Clock clock) {
    if (value == null || value.isBlank()) {
      return -1;
    }
    String v = value.trim();
    if (v.matches("\\d{1,10}")) {
      return Math.min(Long.parseLong(v), CAP.toSeconds()) * 1_000_000_000L;
    }
    try {
      ZonedDateTime at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME);
      long ms = at.toInstant().toEpochMilli() - clock.millis();
      return Math.max(0, Math.min(ms, CAP.toMillis())) * 1_000_000L;
    } catch (RuntimeException e) {
      return -1;
    }
  }
}
