package dev.cvmkms.autheth.config;

/**
 * A start-up setting is missing or invalid; the message names the key and never its secret value.
 */
public final class ConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ConfigException(String message) {
    super(message);
  }
}
