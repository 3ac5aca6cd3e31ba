package dev.cvmkms.autheth.config;

import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * Which block decisions are read at: a tag ({@code latest}, {@code safe}, {@code finalized}) or a
 * fixed number of confirmations behind the head.
 */
public record Finality(@Nullable String tag, int confirmations) {
  public static final Finality LATEST = new Finality("latest", 0);

  public static Finality parse(String value) {
    String v = value.trim().toLowerCase(Locale.ROOT);
    if (v.equals("latest") || v.equals("safe") || v.equals("finalized")) {
      return new Finality(v, 0);
    }
    try {
      int n = Integer.parseInt(v);
      if (n < 0 || n > 10_000) {
        throw new ConfigException("ETH_FINALITY confirmations must be between 0 and 10000");
      }
      return n == 0 ? LATEST : new Finality(null, n);
    } catch (NumberFormatException e) {
      throw new ConfigException(
          "ETH_FINALITY must be latest, safe, finalized or a number of confirmations");
    }
  }

  public boolean usesConfirmations() {
    return tag == null;
  }

  @Override
  public String toString() {
    return tag == null ? confirmations + " confirmations" : tag;
  }
}
