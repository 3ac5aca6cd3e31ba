package dev.cvmkms.kms.monitoring;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The shipped alert rules: valid ({@code promtool check rules}), and each alert fires on its
 * synthetic failing series and stays quiet on healthy ones ({@code promtool test rules} on {@code
 * alerts.test.yml}). promtool comes from Debian's {@code prometheus} package ({@code .ci/run}).
 */
class AlertRulesTest {

  @Test
  void promtoolCheckRules_passes() throws Exception {
    String out = promtool("check", "rules", "alerts.yml");
    assertThat(out).contains("SUCCESS: " + MonitoringFiles.alerts().size() + " rules found");
  }

  @Test
  void promtoolTestRules_passes() throws Exception {
    assertThat(promtool("test", "rules", "alerts.test.yml")).contains("SUCCESS");
  }

  @Test
  void everyAlert_hasACaseWhereItFires_andOneWhereItStaysQuiet() throws IOException {
    Set<String> fires = new HashSet<>();
    Set<String> quiet = new HashSet<>();
    for (JsonNode test : MonitoringFiles.ruleTests().get("tests")) {
      for (JsonNode check : test.get("alert_rule_test")) {
        String alert = check.get("alertname").asText();
        (check.get("exp_alerts").isEmpty() ? quiet : fires).add(alert);
      }
    }
    Set<String> alerts = MonitoringFiles.alerts().keySet();
    assertThat(fires).containsExactlyInAnyOrderElementsOf(alerts);
    assertThat(quiet).containsExactlyInAnyOrderElementsOf(alerts);
  }

  @Test
  void metricNamesAreReadFromPromQl() {
    assertThat(
            MonitoringFiles.metricNames(
                "histogram_quantile(0.99, sum by (instance, le) (rate(kms_rpc_request_duration_"
                    + "seconds_bucket{method=\"GetMeta\"}[5m]))) > 0.5 or kms_ready == 0 and on"
                    + " (job) up{job=\"kms\"} - time() < 30 * 86400"))
        .containsExactly("kms_ready", "kms_rpc_request_duration_seconds_bucket", "up");
  }

  /** Runs promtool in the monitoring directory; fails with its output unless it exits 0. */
  static String promtool(String... args) throws Exception {
    Path dir = MonitoringFiles.DIR.toAbsolutePath().normalize();
    List<String> cmd = new java.util.ArrayList<>(List.of("promtool"));
    cmd.addAll(List.of(args));
    Process p;
    try {
      p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new AssertionError(
          "promtool is not installed (apt-get install prometheus; .ci/run does it)", e);
    }
    byte[] output = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("promtool finished").isTrue();
    String text = new String(output, StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as("promtool %s:%n%s", String.join(" ", args), text).isZero();
    return text;
  }
}
