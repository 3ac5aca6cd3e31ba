package dev.cvmkms.kms.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code [rate_limit]} and {@code [limits]}: defaults, file, environment and refusals by key. */
class LimitsConfigTest {
  @Test
  void defaults() {
    KmsConfig c = KmsConfigLoader.defaults(Map.of());
    assertThat(c.rateLimit()).isEqualTo(RateLimitConfig.defaultConfig());
    assertThat(c.rateLimit().rateFor("GetAppKey")).isEqualTo(new RateLimitConfig.Rate(50, 100));
    assertThat(c.limits()).isEqualTo(ListenerLimits.defaults());
    assertThat(c.limits().headerTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(c.limits().bodyTimeout()).isEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void fileAndEnvironment() {
    String toml =
        """
        [rate_limit]
        rate = 5
        burst = 7
        trusted_proxies = ["127.0.0.1", "::1"]
        [rate_limit.methods.GetAppKey]
        rate = 2
        [limits]
        header_timeout = "500ms"
        max_connections_per_address = 4
        """;
    KmsConfig c =
        KmsConfigLoader.parse(
            toml,
            Map.of(
                "KMS__RATE_LIMIT__METHODS__SIGNCERT__BURST", "3",
                "KMS__LIMITS__BODY_TIMEOUT", "2s",
                "KMS__RATE_LIMIT__FORWARDED_HEADER", "X-Real-IP"));
    RateLimitConfig r = c.rateLimit();
    assertThat(r.rateFor("GetMeta")).isEqualTo(new RateLimitConfig.Rate(5, 7));
    assertThat(r.rateFor("GetAppKey")).isEqualTo(new RateLimitConfig.Rate(2, 7));
    assertThat(r.rateFor("SignCert")).isEqualTo(new RateLimitConfig.Rate(5, 3));
    assertThat(r.trustedProxies()).containsExactly("127.0.0.1", "::1");
    assertThat(r.forwardedHeader()).isEqualTo("X-Real-IP");
    assertThat(c.limits().headerTimeout()).isEqualTo(Duration.ofMillis(500));
    assertThat(c.limits().bodyTimeout()).isEqualTo(Duration.ofSeconds(2));
    assertThat(c.limits().maxConnectionsPerAddress()).isEqualTo(4);
    KmsConfig e = KmsConfigLoader.defaults(Map.of("KMS__RATE_LIMIT__TRUSTED_PROXIES", "10.1.1.1,"));
    assertThat(e.rateLimit().trustedProxies()).containsExactly("10.1.1.1");
  }

  @Test
  void kmsDevTakesOnlyTheLimitTablesFromTheEnvironment() {
    KmsConfig dev = KmsConfig.forDev(java.nio.file.Path.of("/tmp/x"), "127.0.0.1", 0);
    KmsConfig c =
        KmsConfigLoader.withLimitsFromEnv(dev, Map.of("KMS__LIMITS__HEADER_TIMEOUT", "1s"));
    assertThat(c.limits().headerTimeout()).isEqualTo(Duration.ofSeconds(1));
    // A misspelt limit is refused by name ...
    assertThatThrownBy(
            () ->
                KmsConfigLoader.withLimitsFromEnv(dev, Map.of("KMS__LIMITS__HEADER_TIMEOT", "1s")))
        .hasMessageContaining("KMS__LIMITS__HEADER_TIMEOT");
    // ... while other KMS__ variables are not dev's: KMS__RPC__PORT is the healthcheck's (the
    // container runs `dev --port N` and its HEALTHCHECK probes KMS__RPC__PORT), and changes
    // nothing.
    assertThat(KmsConfigLoader.withLimitsFromEnv(dev, Map.of("KMS__RPC__PORT", "1")))
        .isEqualTo(KmsConfigLoader.withLimitsFromEnv(dev, Map.of()));
  }

  @Test
  void refusalsNameTheKey() {
    assertRefused("[rate_limit]\nrate = 0\n", "rate_limit.rate must be between 1 and");
    assertRefused(
        "[rate_limit.methods.GetAppKeys]\nrate = 1\n", "unknown key rate_limit.methods.GetAppKeys");
    assertRefused(
        "[rate_limit]\nidle_expiry = \"1s\"\nburst = 100\nrate = 1\n",
        "rate_limit.idle_expiry must be at least");
    assertRefused(
        "[rate_limit]\ntrusted_proxies = [\"proxy.local\"]\n",
        "rate_limit.trusted_proxies entries must be IP");
    assertRefused(
        "[rate_limit]\ntrusted_proxies = \"1.2.3.4\"\n",
        "rate_limit.trusted_proxies must be an array");
    assertRefused("[limits]\nheader_timeout = \"2h\"\n", "limits.header_timeout");
    assertRefused(
        "[limits]\nmax_connections = 10\nmax_connections_per_address = 11\n",
        "limits.max_connections_per_address");
    assertRefused("[limits]\nmax_headers = 2\n", "limits.max_headers");
    assertRefused("[limits]\nbogus = 1\n", "unknown key limits.bogus");
  }

  private static void assertRefused(String toml, String message) {
    assertThatThrownBy(() -> KmsConfigLoader.parse(toml, Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(message);
  }

  @Test
  void ipLiterals() {
    assertThat(RateLimitConfig.isIpLiteral("127.0.0.1")).isTrue();
    assertThat(RateLimitConfig.isIpLiteral("fd00::1")).isTrue();
    assertThat(RateLimitConfig.isIpLiteral("256.0.0.1")).isFalse();
    assertThat(RateLimitConfig.isIpLiteral("example.org")).isFalse();
    assertThat(List.of()).isEmpty();
  }
}
