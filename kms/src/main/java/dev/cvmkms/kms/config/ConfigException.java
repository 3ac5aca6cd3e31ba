package dev.cvmkms.kms.config;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A configuration that cannot be used. The message names the offending key (its full dotted path,
 * e.g. {@code core.auth_api.webhook.url}) or environment variable and never carries secret values.
 * Unchecked so that record constructors can throw it.
 */
public final class ConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String key;

  /**
   * @param key the dotted key (or environment variable) at fault
   * @param message the full message; it should mention {@code key}
   */
  public ConfigException(String key, String message) {
    this(key, message, null);
  }

  public ConfigException(String key, String message, @Nullable Throwable cause) {
    super(Objects.requireNonNull(message, "message"), cause);
    this.key = Objects.requireNonNull(key, "key");
  }

  /** The dotted key or environment variable the message is about. */
  public String key() {
    return key;
  }
}
