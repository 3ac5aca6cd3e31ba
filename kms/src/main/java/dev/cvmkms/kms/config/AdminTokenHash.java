package dev.cvmkms.kms.config;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;

/**
 * dstack's admin credential before {@code [core.admin]} (v0.5.1 … v0.5.11, {@code [core]
 * admin_token_hash}): the SHA-256 of the admin token as hex, e.g. from {@code echo -n "$TOKEN" |
 * sha256sum}. A presented token is accepted when its SHA-256 equals it. {@link #toString()} never
 * shows the hash (it would let anyone test guesses offline).
 */
public final class AdminTokenHash {
  private static final int SHA256_BYTES = 32;

  private final byte[] sha256;

  private AdminTokenHash(byte[] sha256) {
    this.sha256 = sha256;
  }

  /**
   * Parses the hex digest; empty (dstack's default) means no credential.
   *
   * @param key the config key, for messages
   */
  static Optional<AdminTokenHash> parseHex(String key, String hex) {
    String h = hex.strip();
    if (h.isEmpty()) return Optional.empty();
    byte[] bytes;
    try {
      bytes = HexFormat.of().parseHex(h);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(key, key + " must be hex (the SHA-256 of the admin token)", e);
    }
    if (bytes.length != SHA256_BYTES) {
      // dstack loaded other lengths, but no token could ever match them.
      throw new ConfigException(
          key,
          key
              + " must be a SHA-256 digest (64 hex digits, e.g. from: echo -n \"$TOKEN\" |"
              + " sha256sum), got "
              + bytes.length
              + " bytes");
    }
    return Optional.of(new AdminTokenHash(bytes));
  }

  /** The hash of {@code token} (for tests and tooling). */
  public static AdminTokenHash of(String token) {
    return new AdminTokenHash(sha256(token));
  }

  /** Whether {@code token} hashes to this digest; constant-time in the digest. */
  public boolean matches(String token) {
    return MessageDigest.isEqual(sha256, sha256(token));
  }

  private static byte[] sha256(String token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is mandatory in every JDK", e);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof AdminTokenHash h && MessageDigest.isEqual(sha256, h.sha256);
  }

  @Override
  public int hashCode() {
    return 0x7a5e; // deliberately independent of the value
  }

  @Override
  public String toString() {
    return "<redacted sha256>";
  }
}
