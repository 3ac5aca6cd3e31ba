package dev.cvmkms.kms.config;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Objects;

/**
 * A secret string (e.g. the admin token). {@link #toString()} never shows it, so records holding a
 * {@code Secret} are safe to log; the value is only available through {@link #reveal()}.
 */
public final class Secret {
  private static final Secret EMPTY = new Secret("");

  private final String value;

  private Secret(String value) {
    this.value = value;
  }

  public static Secret of(String value) {
    Objects.requireNonNull(value, "value");
    return value.isEmpty() ? EMPTY : new Secret(value);
  }

  public static Secret empty() {
    return EMPTY;
  }

  public boolean isEmpty() {
    return value.isEmpty();
  }

  /** The secret itself; callers must not log it. */
  public String reveal() {
    return value;
  }

  @Override
  public boolean equals(Object o) {
    // Constant-time, so that config comparisons cannot become a timing oracle.
    return o instanceof Secret s
        && MessageDigest.isEqual(
            value.getBytes(StandardCharsets.UTF_8), s.value.getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public int hashCode() {
    return 0x5ec7e7; // deliberately independent of the value
  }

  @Override
  public String toString() {
    return value.isEmpty() ? "<empty>" : "<redacted>";
  }
}
