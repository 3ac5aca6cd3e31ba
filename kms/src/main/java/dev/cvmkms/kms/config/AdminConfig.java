package dev.cvmkms.kms.config;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * {@code [core.admin]}: the optional operator listener (plain HTTP; keep it on loopback). When
 * enabled it fails closed: it needs a token, an htpasswd file, or the explicit {@code
 * insecure_no_auth}. {@code toString()} never shows the token.
 *
 * @param enabled whether the admin listener runs ({@code enabled})
 * @param address bind address ({@code address})
 * @param port bind port, 0 for ephemeral ({@code port})
 * @param authToken the effective token: {@code auth_token} (trimmed), else the environment variable
 *     {@code DSTACK_KMS_ADMIN_TOKEN}, else {@code ADMIN_API_TOKEN}; may be empty
 * @param htpasswdFile a bcrypt htpasswd file ({@code htpasswd_file}; empty string means none)
 * @param insecureNoAuth serves admin RPCs without authentication ({@code insecure_no_auth})
 */
public record AdminConfig(
    boolean enabled,
    String address,
    int port,
    Secret authToken,
    Optional<Path> htpasswdFile,
    boolean insecureNoAuth) {
  public static final String DEFAULT_ADDRESS = "127.0.0.1";
  public static final int DEFAULT_PORT = 8001;

  public AdminConfig {
    Checks.notBlank("core.admin.address", address);
    Checks.port("core.admin.port", port);
    Objects.requireNonNull(authToken, "authToken");
    Objects.requireNonNull(htpasswdFile, "htpasswdFile");
    if (enabled && authToken.isEmpty() && htpasswdFile.isEmpty() && !insecureNoAuth) {
      throw new ConfigException(
          "core.admin.enabled",
          "core.admin.enabled=true needs core.admin.auth_token (or the environment variable"
              + " DSTACK_KMS_ADMIN_TOKEN or ADMIN_API_TOKEN), core.admin.htpasswd_file, or"
              + " core.admin.insecure_no_auth=true");
    }
  }

  /** Admin listener off, on 127.0.0.1:8001 if it were enabled. */
  public static AdminConfig disabled() {
    return new AdminConfig(
        false, DEFAULT_ADDRESS, DEFAULT_PORT, Secret.empty(), Optional.empty(), false);
  }

  @Override
  public String toString() {
    return "AdminConfig[enabled="
        + enabled
        + ", address="
        + address
        + ", port="
        + port
        + ", authToken="
        + authToken // Secret redacts itself
        + ", htpasswdFile="
        + htpasswdFile
        + ", insecureNoAuth="
        + insecureNoAuth
        + "]";
  }
}
