package dev.cvmkms.kms.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code [shutdown]}: defaults, overrides, the deprecated alias and the start-up validation. */
class ShutdownConfigTest {
  @Test
  void defaultsFitA30sStopGracePeriod() {
    ShutdownConfig d = KmsConfigLoader.defaults(Map.of()).shutdown();
    assertThat(d).isEqualTo(ShutdownConfig.DEFAULTS);
    assertThat(
            d.preDrain()
                .plus(d.httpDrain())
                .plus(d.backgroundDrain())
                .plus(ShutdownConfig.CLEANUP_MARGIN))
        .isLessThanOrEqualTo(d.gracePeriod());
    assertThat(d.gracePeriod()).isLessThan(Duration.ofSeconds(30));
  }

  @Test
  void tableAndEnvironmentOverrides() {
    KmsConfig c =
        KmsConfigLoader.parse(
            "[shutdown]\npre_drain = \"1s\"\nhttp_drain = \"2s\"\n",
            Map.of("KMS__SHUTDOWN__BACKGROUND_DRAIN", "3s", "KMS__SHUTDOWN__GRACE_PERIOD", "9s"));
    assertThat(c.shutdown())
        .isEqualTo(
            new ShutdownConfig(
                Duration.ofSeconds(1),
                Duration.ofSeconds(2),
                Duration.ofSeconds(3),
                Duration.ofSeconds(9)));
  }

  @Test
  void absurdValuesAreRefusedNamingTheKey() {
    assertThatThrownBy(() -> KmsConfigLoader.parse("[shutdown]\npre_drain = \"2h\"\n", Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessage("shutdown.pre_drain must be at least \"0s\" and at most \"1h\", got \"2h\"");
    assertThatThrownBy(
            () ->
                KmsConfigLoader.parse(
                    "", Map.of("KMS__SHUTDOWN__HTTP_DRAIN", "99999999999999999999999d")))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(
            "shutdown.http_drain (from KMS__SHUTDOWN__HTTP_DRAIN) is too large");
    assertThatThrownBy(
            () ->
                KmsConfigLoader.parse(
                    "[shutdown]\ngrace_period = \"106751991167300d\"\n", Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("shutdown.grace_period");
    assertThatThrownBy(() -> KmsConfigLoader.parse("[shutdown]\nhttp_drain = 15\n", Map.of()))
        .hasMessageContaining("shutdown.http_drain must be a duration string");
  }

  @Test
  void budgetsBeyondTheCeilingAreRefused_printingTheFourValuesAndTheCeiling() {
    assertThatThrownBy(
            () ->
                KmsConfigLoader.parse(
                    """
                    [shutdown]
                    pre_drain = "10s"
                    http_drain = "20s"
                    background_drain = "5s"
                    grace_period = "30s"
                    """,
                    Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "shutdown budgets exceed shutdown.grace_period: pre_drain 10s + http_drain 20s +"
                + " background_drain 5s + cleanup margin 2s = 37s, but the ceiling grace_period"
                + " is 30s");
  }

  @Test
  void rpcShutdownGrace_isADeprecatedAliasOfHttpDrain_andBothSetIsAnError() {
    KmsConfig c = KmsConfigLoader.parse("[rpc]\nshutdown_grace = \"7s\"\n", Map.of());
    assertThat(c.shutdown().httpDrain()).isEqualTo(Duration.ofSeconds(7));
    assertThat(c.shutdown().preDrain()).isEqualTo(ShutdownConfig.DEFAULTS.preDrain());

    assertThatThrownBy(
            () ->
                KmsConfigLoader.parse(
                    "[rpc]\nshutdown_grace = \"7s\"\n[shutdown]\nhttp_drain = \"8s\"\n", Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("rpc.shutdown_grace is a deprecated alias of shutdown.http_drain");
    // The old ceiling (5 min) no longer fits the default grace period: refused, not clamped.
    assertThatThrownBy(() -> KmsConfigLoader.parse("[rpc]\nshutdown_grace = \"5m\"\n", Map.of()))
        .hasMessageContaining("grace_period is 28s");
  }

  @Test
  void unknownShutdownKeyIsRefused() {
    assertThatThrownBy(() -> KmsConfigLoader.parse("[shutdown]\npredrain = \"1s\"\n", Map.of()))
        .hasMessage("unknown key shutdown.predrain (did you mean shutdown.pre_drain?)");
  }
}
