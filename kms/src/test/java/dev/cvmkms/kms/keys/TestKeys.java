package dev.cvmkms.kms.keys;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Optional;

/** Named builders for key material in tests (also usable from other packages' tests). */
public final class TestKeys {
  /** A fixed "now" for certificates made in tests. */
  public static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");

  public static final String DOMAIN = "kms.example.com";

  private TestKeys() {}

  public static Clock clockAt(Instant instant) {
    return Clock.fixed(instant, ZoneOffset.UTC);
  }

  /** A fresh, unattested key set for {@link #DOMAIN}, issued at {@link #NOW}. */
  public static RootKeys unattested() {
    return generate(DOMAIN, Optional.empty());
  }

  /** A fresh key set whose RPC certificate carries the given attester's output. */
  public static RootKeys generate(String domain, Optional<KeyAttester> attester) {
    try {
      return new KeyBootstrap(clockAt(NOW)).generate(domain, attester);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
