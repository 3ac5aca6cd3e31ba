package dev.cvmkms.kms.monitoring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cvmkms.autheth.testing.Anvil;
import dev.cvmkms.autheth.testing.AuthEthJar;
import dev.cvmkms.autheth.testing.ChainFixture;
import dev.cvmkms.kms.KmsProcess;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dashboard and the alert rules name only metrics the services export: a real chain (anvil),
 * auth-eth and {@code kms dev --auth-url}, exercised until the labelled series exist (webhook
 * calls, RPC outcomes, a locally refused RPC call), then both {@code /metrics} are scraped and
 * every metric (and every label a selector matches on) that a dashboard query or an alert names
 * must be there.
 */
class MonitoringMetricsIT {
  /**
   * Metrics this test's traffic cannot produce: the upstream clients' meters need a PCCS call, so
   * {@code PccsFreezeIT} finds them in the real jar's /metrics. Everything else must be here.
   */
  static final Set<String> PENDING =
      Set.of("kms_upstream_calls_seconds_count", "kms_upstream_breaker_state");

  /** Series Prometheus makes itself, not the services. */
  static final Set<String> SYNTHETIC = Set.of("up");

  /** Labels Prometheus attaches at scrape time. */
  static final Set<String> TARGET_LABELS = Set.of("job", "instance");

  private static final Pattern SELECTOR =
      Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)\\s*\\{([^}]*)}");
  private static final Pattern MATCHER =
      Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)\\s*(=~|!~|!=|=)");

  @TempDir Path tmp;

  @Test
  void everyMetricTheDashboardAndTheAlertsName_isExported() throws Exception {
    try (Anvil anvil = Anvil.start()) {
      ChainFixture chain = ChainFixture.deploy(anvil);
      // A small outbound budget, so that some RPC calls are refused locally and
      // autheth_rpc_rejected_total exists too.
      try (AuthEthJar.Server auth =
          AuthEthJar.Server.start(
              Map.of(
                  "ETH_RPC_URL",
                  anvil.url(),
                  "KMS_CONTRACT_ADDR",
                  chain.kms(),
                  "ETH_RPC_RATE_PER_SEC",
                  "0.001",
                  "ETH_RPC_BURST",
                  "12"))) {
        Path state = tmp.resolve("state");
        int port = KmsProcess.freePort();
        try (KmsProcess kms =
            KmsProcess.start(
                tmp,
                port,
                // One method limited to 1/s, so that kms_rpc_rate_limited_total{method} exists.
                Map.of(
                    "KMS__RATE_LIMIT__METHODS__GETAPPENVENCRYPTPUBKEY__RATE", "1",
                    "KMS__RATE_LIMIT__METHODS__GETAPPENVENCRYPTPUBKEY__BURST", "1"),
                List.of(),
                "dev",
                "--state-dir",
                state.toString(),
                "--port",
                "" + port,
                "--auth-url",
                auth.url())) {
          Path rootCa = state.resolve("root-ca.crt");
          kms.awaitReady(rootCa, Duration.ofSeconds(60));
          HttpClient https = KmsProcess.client(rootCa);
          HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

          for (int i = 0; i < 3; i++) {
            https.send(kms.get("/prpc/GetMeta"), HttpResponse.BodyHandlers.discarding());
          }
          for (int i = 0; i < 3; i++) { // the second and third are over the 1/s limit
            https.send(
                kms.get("/prpc/GetAppEnvEncryptPubKey?app_id=" + "ab".repeat(20)),
                HttpResponse.BodyHandlers.discarding());
          }
          https.send(kms.get("/prpc/NoSuchMethod"), HttpResponse.BodyHandlers.discarding());
          // Each GetTempCaCert self-authorizes: POST /bootAuth/kms, a few chain reads each, until
          // the budget runs out and auth-eth refuses calls locally (bounded).
          String authMetrics = "";
          for (int i = 0; i < 40 && !authMetrics.contains("autheth_rpc_rejected_total{"); i++) {
            https.send(
                kms.post(
                    "/prpc/GetTempCaCert?json",
                    "application/json",
                    "null".getBytes(StandardCharsets.UTF_8)),
                HttpResponse.BodyHandlers.discarding());
            authMetrics = scrape(http, URI.create(auth.url() + "/metrics"));
          }
          String kmsMetrics = scrape(https, kms.uri("/metrics"));

          Map<String, Set<String>> exported = new HashMap<>();
          parse(kmsMetrics, exported);
          parse(authMetrics, exported);

          List<String> queries = new ArrayList<>(MonitoringFiles.dashboardQueries());
          queries.addAll(MonitoringFiles.alerts().values());
          Set<String> named = new TreeSet<>();
          Set<String> missing = new TreeSet<>();
          for (String q : queries) {
            for (String metric : MonitoringFiles.metricNames(q)) {
              named.add(metric);
              if (!SYNTHETIC.contains(metric)
                  && !PENDING.contains(metric)
                  && !exported.containsKey(metric)) {
                missing.add(metric + "   (in: " + q.strip().replaceAll("\\s+", " ") + ")");
              }
            }
            Matcher s = SELECTOR.matcher(q);
            while (s.find()) {
              String metric = s.group(1);
              if (SYNTHETIC.contains(metric)
                  || PENDING.contains(metric)
                  || !exported.containsKey(metric)) {
                continue;
              }
              Matcher m = MATCHER.matcher(s.group(2));
              while (m.find()) {
                String label = m.group(1);
                if (!TARGET_LABELS.contains(label) && !exported.get(metric).contains(label)) {
                  missing.add(metric + " has no label '" + label + "'");
                }
              }
            }
          }
          assertThat(named).as("the files name metrics at all").hasSizeGreaterThan(20);
          assertThat(missing).as("named by the dashboard or the alerts but not exported").isEmpty();
          assertThat(named).containsAll(PENDING);
        }
      }
    }
  }

  private static String scrape(HttpClient client, URI uri) throws Exception {
    HttpResponse<String> r =
        client.send(
            HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(uri.toString()).isEqualTo(200);
    return r.body();
  }

  /** Prometheus text format: metric name to the label names seen on its series. */
  private static void parse(String text, Map<String, Set<String>> out) {
    for (String line : text.lines().toList()) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int brace = line.indexOf('{');
      int space = line.indexOf(' ');
      String name = line.substring(0, brace >= 0 && brace < space ? brace : space);
      Set<String> labels = out.computeIfAbsent(name, k -> new HashSet<>());
      if (brace >= 0 && brace < space) {
        Matcher m =
            Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"")
                .matcher(line.substring(brace, line.lastIndexOf('}')));
        while (m.find()) {
          labels.add(m.group(1));
        }
      }
    }
  }
}
