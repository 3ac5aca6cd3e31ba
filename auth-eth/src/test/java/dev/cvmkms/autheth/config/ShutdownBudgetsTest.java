package dev.cvmkms.autheth.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** SHUTDOWN_*_MS: defaults, ranges without overflow, and the grace-period ceiling. */
class ShutdownBudgetsTest {
  @Test
  void defaultsFitA30sStopGracePeriod() {
    ShutdownBudgets d = AuthEthConfig.fromEnv(Map.of()).shutdown();
    assertThat(d).isEqualTo(ShutdownBudgets.DEFAULTS);
    assertThat(d.preDrain()).isEqualTo(Duration.ofSeconds(5));
    assertThat(d.httpDrain()).isEqualTo(Duration.ofSeconds(15));
    assertThat(d.backgroundDrain()).isEqualTo(Duration.ofSeconds(5));
    assertThat(d.gracePeriod()).isEqualTo(Duration.ofSeconds(28));
  }

  @Test
  void valuesAreRead() {
    ShutdownBudgets b =
        AuthEthConfig.fromEnv(
                Map.of(
                    "SHUTDOWN_PRE_DRAIN_MS", "0",
                    "SHUTDOWN_HTTP_DRAIN_MS", "1000",
                    "SHUTDOWN_BACKGROUND_DRAIN_MS", "500",
                    "SHUTDOWN_GRACE_PERIOD_MS", "3500"))
            .shutdown();
    assertThat(b)
        .isEqualTo(
            new ShutdownBudgets(
                Duration.ZERO,
                Duration.ofSeconds(1),
                Duration.ofMillis(500),
                Duration.ofMillis(3500)));
  }

  @Test
  void absurdValuesAreRefusedNamingTheKey() {
    assertThatThrownBy(() -> AuthEthConfig.fromEnv(Map.of("SHUTDOWN_PRE_DRAIN_MS", "3600001")))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "SHUTDOWN_PRE_DRAIN_MS must be between 0 and 3600000 (1 h) milliseconds, got 3600001");
    assertThatThrownBy(() -> AuthEthConfig.fromEnv(Map.of("SHUTDOWN_HTTP_DRAIN_MS", "-1")))
        .hasMessageStartingWith("SHUTDOWN_HTTP_DRAIN_MS must be between 0 and 3600000");
    // Beyond long: refused, never wrapped into range.
    assertThatThrownBy(
            () ->
                AuthEthConfig.fromEnv(
                    Map.of("SHUTDOWN_GRACE_PERIOD_MS", "18446744073709551617000")))
        .hasMessageStartingWith("SHUTDOWN_GRACE_PERIOD_MS must be a whole number of milliseconds");
    assertThatThrownBy(() -> AuthEthConfig.fromEnv(Map.of("SHUTDOWN_BACKGROUND_DRAIN_MS", "5s")))
        .hasMessageStartingWith("SHUTDOWN_BACKGROUND_DRAIN_MS must be a whole number");
  }

  @Test
  void budgetsBeyondTheCeilingAreRefused_printingTheFourValuesAndTheCeiling() {
    assertThatThrownBy(
            () ->
                AuthEthConfig.fromEnv(
                    Map.of(
                        "SHUTDOWN_PRE_DRAIN_MS", "10000",
                        "SHUTDOWN_HTTP_DRAIN_MS", "20000",
                        "SHUTDOWN_BACKGROUND_DRAIN_MS", "5000",
                        "SHUTDOWN_GRACE_PERIOD_MS", "30000")))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "shutdown budgets exceed SHUTDOWN_GRACE_PERIOD_MS: SHUTDOWN_PRE_DRAIN_MS 10000 +"
                + " SHUTDOWN_HTTP_DRAIN_MS 20000 + SHUTDOWN_BACKGROUND_DRAIN_MS 5000 + cleanup"
                + " margin 2000 = 37000 ms, but the ceiling SHUTDOWN_GRACE_PERIOD_MS is 30000");
  }
}
