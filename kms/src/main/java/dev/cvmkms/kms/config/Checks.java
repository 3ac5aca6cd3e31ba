package dev.cvmkms.kms.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;

/** Validation helpers for record constructors; every message names the key. */
final class Checks {
  private Checks() {}

  static <T> T present(String key, T value) {
    if (value == null) {
      throw new ConfigException(key, key + " is required");
    }
    return value;
  }

  static String notBlank(String key, String value) {
    if (present(key, value).isBlank()) {
      throw new ConfigException(key, key + " must not be empty");
    }
    return value;
  }

  /** Port 0 is allowed: it asks for an ephemeral port (tests). */
  static int port(String key, int port) {
    return intRange(key, port, 0, 65535);
  }

  static int intRange(String key, int value, int min, int max) {
    if (value < min || value > max) {
      throw new ConfigException(
          key, key + " must be between " + min + " and " + max + ", got " + value);
    }
    return value;
  }

  static long bytes(String key, long value, long min, long max) {
    if (value < min || value > max) {
      throw new ConfigException(
          key,
          key
              + " must be between "
              + ByteSizes.format(min)
              + " and "
              + ByteSizes.format(max)
              + ", got "
              + ByteSizes.format(value));
    }
    return value;
  }

  /** A duration in (0, max]. */
  static Duration positive(String key, Duration value, Duration max) {
    return range(key, value, Duration.ofMillis(1), max);
  }

  static Duration range(String key, Duration value, Duration min, Duration max) {
    present(key, value);
    if (value.compareTo(min) < 0 || value.compareTo(max) > 0) {
      String lower = min.equals(Duration.ofMillis(1)) ? "greater than 0" : "at least " + fmt(min);
      throw new ConfigException(
          key, key + " must be " + lower + " and at most " + fmt(max) + ", got " + fmt(value));
    }
    return value;
  }

  /**
   * An absolute http(s) URL with a host and no credentials (they would end up in logs), query or
   * fragment (paths are appended to it).
   */
  static URI httpUrl(String key, URI url) {
    present(key, url);
    String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https")) {
      throw new ConfigException(key, key + " must be http(s), got scheme \"" + scheme + "\"");
    }
    if (url.getHost() == null || url.getHost().isEmpty()) {
      throw new ConfigException(key, key + " must name a host");
    }
    if (url.getRawUserInfo() != null) {
      throw new ConfigException(key, key + " must not carry credentials");
    }
    if (url.getRawQuery() != null || url.getRawFragment() != null) {
      throw new ConfigException(key, key + " must not have a query or fragment");
    }
    return url;
  }

  static URI parseUri(String key, String text) {
    Objects.requireNonNull(text);
    try {
      return new URI(text.strip());
    } catch (URISyntaxException e) {
      throw new ConfigException(key, key + " is not a valid URL: " + e.getReason(), e);
    }
  }

  private static String fmt(Duration d) {
    return "\"" + Durations.format(d) + "\"";
  }
}
