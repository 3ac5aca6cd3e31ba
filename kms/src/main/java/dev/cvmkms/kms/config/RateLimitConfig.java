package dev.cvmkms.kms.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * {@code [rate_limit]}: per-client token buckets on the main listener's pRPC methods (ours). The
 * client is the app id of the RA-TLS client certificate when there is one, else the remote address
 * (or, for a connection from a trusted proxy, the address it forwards in {@code forwarded_header}).
 *
 * @param enabled limit at all ({@code enabled})
 * @param defaults rate and burst for methods without an entry ({@code rate}, {@code burst})
 * @param perMethod overrides by bare method name ({@code [rate_limit.methods.<Method>]}); each such
 *     method has its own bucket per client, the others share the default one
 * @param maxClients buckets kept at most; beyond it the least valuable are evicted ({@code
 *     max_clients})
 * @param idleExpiry a client's bucket is dropped after this long unused ({@code idle_expiry}); at
 *     least the time any bucket takes to refill, so dropping one never grants more than waiting
 * @param trustedProxies remote addresses (literal IPs) whose {@code forwarded_header} is believed
 *     ({@code trusted_proxies})
 * @param forwardedHeader header naming the original client, right-most untrusted entry wins ({@code
 *     forwarded_header})
 * @param addressCeiling a second bucket per remote address that every certificate-keyed request
 *     also draws from ({@code address_rate}, {@code address_burst}): the app id is read before the
 *     attestation is verified and the temp CA key is public, so minting certificates with fresh app
 *     ids must not buy an address more than this
 */
public record RateLimitConfig(
    boolean enabled,
    Rate defaults,
    Map<String, Rate> perMethod,
    int maxClients,
    Duration idleExpiry,
    List<String> trustedProxies,
    String forwardedHeader,
    Rate addressCeiling) {

  /**
   * A token bucket: {@code perSecond} tokens added each second up to {@code burst}.
   *
   * @param perSecond sustained requests per second
   * @param burst requests allowed at once after a quiet period
   */
  public record Rate(int perSecond, int burst) {
    public static final int MAX = 1_000_000;

    /** Validates; {@code key} is the table the values come from, for messages. */
    public Rate check(String key) {
      Checks.intRange(key + ".rate", perSecond, 1, MAX);
      Checks.intRange(key + ".burst", burst, 1, MAX);
      return this;
    }

    /** Seconds an empty bucket needs to fill up again. */
    Duration refillTime() {
      return Duration.ofNanos((long) Math.ceil(burst * 1e9 / perSecond));
    }
  }

  public static final Rate DEFAULT_RATE = new Rate(50, 100);

  /** Ten apps' worth of the default per address: room for a host's CVMs behind one NAT. */
  public static final Rate DEFAULT_ADDRESS_CEILING = new Rate(500, 1000);

  public static final int DEFAULT_MAX_CLIENTS = 100_000;
  public static final Duration DEFAULT_IDLE_EXPIRY = Duration.ofMinutes(10);
  public static final String DEFAULT_FORWARDED_HEADER = "X-Forwarded-For";

  public RateLimitConfig {
    Checks.present("rate_limit", defaults).check("rate_limit");
    Objects.requireNonNull(perMethod, "perMethod");
    for (Map.Entry<String, Rate> e : perMethod.entrySet()) {
      String key = "rate_limit.methods." + e.getKey();
      if (!BodyLimits.METHODS.contains(e.getKey())) {
        throw new ConfigException(
            key,
            "unknown key "
                + key
                + " (not a pRPC method; known: "
                + String.join(", ", new TreeSet<>(BodyLimits.METHODS))
                + ")");
      }
      Checks.present(key, e.getValue()).check(key);
    }
    perMethod = Map.copyOf(perMethod);
    Checks.intRange("rate_limit.max_clients", maxClients, 16, 10_000_000);
    Checks.range("rate_limit.idle_expiry", idleExpiry, Duration.ofSeconds(1), Duration.ofDays(1));
    Checks.present("rate_limit.address_rate", addressCeiling);
    Checks.intRange("rate_limit.address_rate", addressCeiling.perSecond(), 1, Rate.MAX);
    Checks.intRange("rate_limit.address_burst", addressCeiling.burst(), 1, Rate.MAX);
    Duration slowest = defaults.refillTime();
    if (slowest.compareTo(addressCeiling.refillTime()) < 0) {
      slowest = addressCeiling.refillTime();
    }
    for (Rate r : perMethod.values()) {
      slowest = slowest.compareTo(r.refillTime()) < 0 ? r.refillTime() : slowest;
    }
    if (idleExpiry.compareTo(slowest) < 0) {
      throw new ConfigException(
          "rate_limit.idle_expiry",
          "rate_limit.idle_expiry must be at least "
              + slowest.toMillis()
              + "ms, the time the slowest bucket takes to refill (burst / rate); otherwise"
              + " dropping an idle bucket would hand out tokens early");
    }
    trustedProxies = List.copyOf(Objects.requireNonNull(trustedProxies, "trustedProxies"));
    for (String proxy : trustedProxies) {
      if (!isIpLiteral(proxy)) {
        throw new ConfigException(
            "rate_limit.trusted_proxies",
            "rate_limit.trusted_proxies entries must be IP addresses, got \""
                + proxy.replaceAll("[^\\x20-\\x7e]", "?")
                + "\"");
      }
    }
    Checks.notBlank("rate_limit.forwarded_header", forwardedHeader);
    if (!forwardedHeader.matches("[A-Za-z0-9-]{1,64}")) {
      throw new ConfigException(
          "rate_limit.forwarded_header",
          "rate_limit.forwarded_header must be a header name (letters, digits, '-')");
    }
  }

  /** On, 50 req/s with a burst of 100 for every method, no trusted proxies. */
  public static RateLimitConfig defaultConfig() {
    return new RateLimitConfig(
        true,
        DEFAULT_RATE,
        Map.of(),
        DEFAULT_MAX_CLIENTS,
        DEFAULT_IDLE_EXPIRY,
        List.of(),
        DEFAULT_FORWARDED_HEADER,
        DEFAULT_ADDRESS_CEILING);
  }

  /** The rate of {@code method} (bare name); unknown methods get the default. */
  public Rate rateFor(String method) {
    return perMethod.getOrDefault(method, defaults);
  }

  static boolean isIpLiteral(String s) {
    if (s == null || s.isEmpty() || s.length() > 45) {
      return false;
    }
    if (s.matches("(\\d{1,3})(\\.\\d{1,3}){3}")) {
      for (String part : s.split("\\.", -1)) { // four non-empty parts: matched above
        if (Integer.parseInt(part) > 255) {
          return false;
        }
      }
      return true;
    }
    return s.contains(":") && s.matches("[0-9A-Fa-f:.]+");
  }
}
