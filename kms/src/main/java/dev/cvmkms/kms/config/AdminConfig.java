package dev.cvmkms.kms.config;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

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
 * @param authTokenHash dstack v0.5.1 … v0.5.11's credential ({@code [core] admin_token_hash}): a
 *     token whose SHA-256 is this is accepted as well as {@code authToken}
 */
public record AdminConfig(
    boolean enabled,
    String address,
    int port,
    Secret authToken,
    Optional<Path> htpasswdFile,
    boolean insecureNoAuth,
    Optional<AdminTokenHash> authTokenHash) {
  public static final String DEFAULT_ADDRESS = "127.0.0.1";
  public static final int DEFAULT_PORT = 8001;

  public AdminConfig {
    Checks.notBlank("core.admin.address", address);
    Checks.port("core.admin.port", port);
    Objects.requireNonNull(authToken, "authToken");
    Objects.requireNonNull(htpasswdFile, "htpasswdFile");
    Objects.requireNonNull(authTokenHash, "authTokenHash");
    if (enabled
        && authToken.isEmpty()
        && authTokenHash.isEmpty()
        && htpasswdFile.isEmpty()
        && !insecureNoAuth) {
      throw new ConfigException(
          "core.admin.enabled",
          "core.admin.enabled=true needs core.admin.auth_token (or the environment variable"
              + " DSTACK_KMS_ADMIN_TOKEN or ADMIN_API_TOKEN), core.admin_token_hash,"
              + " core.admin.htpasswd_file, or core.admin.insecure_no_auth=true");
    }
  }

  /** Without dstack's older token hash. */
  public AdminConfig(
      boolean enabled,
      String address,
      int port,
      Secret authToken,
      Optional<Path> htpasswdFile,
      boolean insecureNoAuth) {
    this(enabled, address, port, authToken, htpasswdFile, insecureNoAuth, Optional.empty());
  }

  /**
   * Whether {@code token} (from {@code Authorization: Bearer} or {@code X-Admin-Token}) is an admin
   * credential: equal to {@code auth_token}, or hashing to {@code admin_token_hash}. Blank never
   * is. Both comparisons are constant-time.
   */
  public boolean acceptsToken(@Nullable String token) {
    if (token == null || token.isBlank()) return false;
    boolean byToken = !authToken.isEmpty() && authToken.equals(Secret.of(token));
    boolean byHash = authTokenHash.map(h -> h.matches(token)).orElse(false);
    return byToken || byHash; // both already computed: no early exit on the first match
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
        + ", authTokenHash="
        + authTokenHash // redacts itself
        + "]";
  }
}
