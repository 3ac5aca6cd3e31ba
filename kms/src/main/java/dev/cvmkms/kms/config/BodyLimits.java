package dev.cvmkms.kms.config;

import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * Request body limits per pRPC method ({@code [rpc.body_limits]}). dstack lets any POST body reach
 * 10 MiB; we cap bodies far lower because no legitimate request is large: a SignCert carrying a TDX
 * attestation is about 20 KB as hex JSON, every other request is a few hundred bytes.
 *
 * @param defaultLimit limit in bytes for methods without an entry ({@code default})
 * @param perMethod limit in bytes keyed by bare method name ({@code SignCert})
 */
public record BodyLimits(long defaultLimit, Map<String, Long> perMethod) {
  public static final long DEFAULT_LIMIT = 64 * ByteSizes.KIB;

  /** Built-in SignCert limit: room for large event logs, still a tenth of dstack's 10 MiB. */
  public static final long DEFAULT_SIGN_CERT_LIMIT = ByteSizes.MIB;

  /** Below this a limit is a misconfiguration (e.g. {@code 64} meant as KiB). */
  public static final long MIN_LIMIT = ByteSizes.KIB;

  /** dstack's own limit; we never accept more. */
  public static final long MAX_LIMIT = 10 * ByteSizes.MIB;

  /** Bare names of every pRPC method served by the main, onboard and admin listeners. */
  public static final Set<String> METHODS =
      Set.of(
          "GetAppKey",
          "GetKmsKey",
          "GetAppEnvEncryptPubKey",
          "GetMeta",
          "GetTempCaCert",
          "SignCert",
          "Bootstrap",
          "Onboard",
          "GetAttestationInfo",
          "Finish",
          "ClearImageCache");

  private static final String[] SERVICE_PREFIXES = {"KMS.", "Onboard.", "Admin."};

  public BodyLimits {
    Checks.bytes("rpc.body_limits.default", defaultLimit, MIN_LIMIT, MAX_LIMIT);
    Objects.requireNonNull(perMethod, "perMethod");
    for (Map.Entry<String, Long> e : perMethod.entrySet()) {
      String key = "rpc.body_limits." + e.getKey();
      if (!METHODS.contains(e.getKey())) {
        throw new ConfigException(
            key,
            "unknown key "
                + key
                + " (not a pRPC method; known: "
                + String.join(", ", new TreeSet<>(METHODS))
                + ")");
      }
      Checks.bytes(key, Checks.present(key, e.getValue()), MIN_LIMIT, MAX_LIMIT);
    }
    perMethod = Map.copyOf(perMethod);
  }

  /** The built-in limits: 64 KiB, SignCert 1 MiB. */
  public static BodyLimits defaults() {
    return new BodyLimits(DEFAULT_LIMIT, Map.of("SignCert", DEFAULT_SIGN_CERT_LIMIT));
  }

  /**
   * The limit in bytes for {@code method}, given bare ({@code SignCert}) or with its service prefix
   * ({@code KMS.SignCert}); unknown methods get the default.
   */
  public long limitFor(String method) {
    String bare = method;
    for (String prefix : SERVICE_PREFIXES) {
      if (bare.startsWith(prefix)) {
        bare = bare.substring(prefix.length());
        break;
      }
    }
    return perMethod.getOrDefault(bare, defaultLimit);
  }

  /** The largest limit of any method: what a server must be able to buffer at most. */
  public long maxLimit() {
    return perMethod.values().stream().mapToLong(Long::longValue).reduce(defaultLimit, Math::max);
  }
}
