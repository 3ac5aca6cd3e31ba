package dev.cvmkms.kms;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cvmkms.autheth.testing.BlockedThreadWarnings;
import dev.cvmkms.kms.attestation.AttestationProvider;
import dev.cvmkms.kms.attestation.mock.MockCollateralSpec;
import dev.cvmkms.kms.attestation.mock.MockTdx;
import dev.cvmkms.kms.attestation.mock.MockTdxPki;
import dev.cvmkms.kms.attestation.mock.PcsStub;
import dev.cvmkms.kms.attestation.ratls.VersionedAttestation;
import dev.cvmkms.kms.client.RaTlsKmsClient;
import dev.cvmkms.kms.client.ServerAttestationPolicy;
import dev.cvmkms.kms.proto.AppKeyResponse;
import dev.cvmkms.kms.proto.GetAppKeyRequest;
import dev.cvmkms.kms.rpc.CryptoPool;
import dev.cvmkms.kms.upstream.FaultyPccs;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The PCCS freeze (issue #13) with the real jar: {@code kms dev --pccs-url} pointing at a fault
 * proxy in front of a PCS stub serving the mock PKI's collateral. Once a platform's collateral is
 * cached, GetAppKey for it keeps working while the PCCS hangs and while it answers 429; a platform
 * with nothing cached fails closed within the configured deadline with a clear error; PCCS requests
 * stay bounded by the configuration; no blocked-thread warnings. With {@code
 * -Dpccs.freeze.seconds=N} the fault phases run for N seconds in total and a report with a latency
 * plot is written to {@code -Dpccs.freeze.docs} (default target/pccs-freeze).
 */
class PccsFreezeIT {
  static final Duration READY = Duration.ofSeconds(90);
  static final Duration PCCS_DEADLINE = Duration.ofSeconds(3);
  static final String APP_ID = "ab".repeat(20);

  @TempDir Path tmp;

  record Sample(long atMs, String phase, String platform, long latencyMs, String outcome) {}

  @Test
  void cachedPlatformsKeepWorking_uncachedOnesFailClosedInTime() throws Exception {
    Instant now = Instant.now();
    MockTdx tdx = MockTdx.create(now);
    String prop = System.getProperty("pccs.freeze.seconds", "0");
    long seconds = prop.isBlank() ? 0 : Long.parseLong(prop.trim());
    List<Sample> samples = new ArrayList<>();
    long t0 = System.nanoTime();
    try (PcsStub stub = PcsStub.start(tdx.pki(), MockCollateralSpec.healthy(now));
        FaultyPccs proxy = FaultyPccs.start(stub.baseUri())) {
      Path state = tmp.resolve("state");
      int port = KmsProcess.freePort();
      try (KmsProcess kms =
          KmsProcess.start(
              tmp,
              port,
              "dev",
              "--state-dir",
              state.toString(),
              "--port",
              "" + port,
              "--pccs-url",
              proxy.uri().toString(),
              "--pccs-deadline",
              PCCS_DEADLINE.toMillis() + "ms")) {
        kms.awaitReady(state.resolve("root-ca.crt"), READY);
        // Blocked-thread warnings are counted from readiness on: the criterion is the fault
        // phases (a cold JVM on a loaded machine may stall once while binding at start-up).
        int logAtReady = kms.log().length();
        Vertx vertx = Vertx.vertx();
        try {
          CryptoPool workers = new CryptoPool(vertx, 2, 60);
          String url = "https://localhost:" + port;
          AttestationProvider honest = tdx.guest(hex(APP_ID), new byte[32], new byte[20]);
          // Another platform under the same mock root: its PCK chain verifies, its FMSPC is new.

          // Warm: the first GetAppKey fetches the collateral (4 GETs), later ones hit the cache.
          assertThat(call(vertx, workers, url, tdx, honest).getDiskCryptKey()).isNotEmpty();
          int afterWarm = proxy.total();
          assertThat(afterWarm).isBetween(4, 12);
          for (int i = 0; i < 3; i++) {
            call(vertx, workers, url, tdx, honest);
          }
          assertThat(proxy.total()).as("cache hits cost no PCCS request").isEqualTo(afterWarm);

          long phaseMs = Math.max(0, seconds * 1000 / 2);
          int platforms = 0; // each phase's uncached platform gets an FMSPC of its own
          for (FaultyPccs.Mode mode :
              new FaultyPccs.Mode[] {FaultyPccs.Mode.HANG, FaultyPccs.Mode.THROTTLE}) {
            proxy.mode(mode); // 429 without Retry-After: the client's own backoff applies
            String phase = mode.name().toLowerCase(java.util.Locale.ROOT);
            long end = System.nanoTime() + phaseMs * 1_000_000;
            int n = 0;
            do {
              long s = System.nanoTime();
              AppKeyResponse r = call(vertx, workers, url, tdx, honest);
              long took = (System.nanoTime() - s) / 1_000_000;
              assertThat(r.getDiskCryptKey()).isNotEmpty();
              samples.add(new Sample((s - t0) / 1_000_000, phase, "cached", took, "ok"));
              n++;
            } while (n < 5 || System.nanoTime() < end);

            // A platform with nothing cached (its own FMSPC, its chain under the same mock root)
            // fails closed, within the deadline, with a clear error.
            MockTdxPki other =
                tdx.pki().withFmspc(new byte[] {0, 0, 0, 0, 0, (byte) (0xa1 + platforms++)});
            AttestationProvider uncached = onPlatform(tdx, honest, other);
            int before = proxy.total();
            long s = System.nanoTime();
            Throwable e = failure(vertx, workers, url, tdx, uncached);
            long took = (System.nanoTime() - s) / 1_000_000;
            samples.add(new Sample((s - t0) / 1_000_000, phase, "uncached", took, "error"));
            // Clear, and without the PCCS's internal URL or paths (the wire gets the reason).
            assertThat(e.getMessage())
                .contains("invalid quote")
                .contains("COLLATERAL_UNAVAILABLE")
                .doesNotContain(proxy.uri().toString());
            assertThat(took).isLessThan(PCCS_DEADLINE.toMillis() + 5_000);
            int fetched = proxy.total() - before;
            assertThat(fetched).as("4 GETs, each at most 1 + max_retries times").isBetween(1, 12);
            // Within failure_backoff a second miss sends nothing.
            Throwable again = failure(vertx, workers, url, tdx, uncached);
            // (the wire says only COLLATERAL_UNAVAILABLE; that nothing was sent is counted below)
            assertThat(again.getMessage()).contains("COLLATERAL_UNAVAILABLE");
            assertThat(proxy.total() - before).isEqualTo(fetched);
            assertThat(proxy.total() - afterWarm)
                .as("only the uncached platform's fetches reached the PCCS")
                .isLessThanOrEqualTo(12 * (mode == FaultyPccs.Mode.HANG ? 1 : 2));
          }
          proxy.mode(FaultyPccs.Mode.PASS);
          // The upstream meters that the shipped alert rules and dashboard name, in the real
          // /metrics (MonitoringMetricsIT's traffic reaches no upstream; this test's does).
          try (java.net.http.HttpClient probe = KmsProcess.client(state.resolve("root-ca.crt"))) {
            String metrics =
                probe
                    .send(kms.get("/metrics"), java.net.http.HttpResponse.BodyHandlers.ofString())
                    .body();
            assertThat(metrics)
                .containsPattern("kms_upstream_calls_seconds_count\\{[^}]*upstream=\"pccs\"")
                .containsPattern("kms_upstream_breaker_state\\{[^}]*upstream=\"pccs\"");
          }
        } finally {
          vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
        String log = kms.log();
        String startUp = log.substring(0, Math.min(logAtReady, log.length()));
        String afterReady = log.substring(Math.min(logAtReady, log.length()));
        if (seconds > 0) {
          PccsFreezeReport.write(
              samples,
              seconds,
              Path.of(
                  System.getProperty("pccs.freeze.docs", "").isBlank()
                      ? "target/pccs-freeze"
                      : System.getProperty("pccs.freeze.docs")),
              proxy.total(),
              count(afterReady, "has been blocked"),
              count(startUp, "has been blocked"));
        }
        assertThat(BlockedThreadWarnings.blocking(afterReady)).as("blocked event loops").isEmpty();
      }
    }
  }

  /** {@code honest}'s attestation with its quote re-issued by {@code platform}'s PCK key. */
  private static AttestationProvider onPlatform(
      MockTdx tdx, AttestationProvider honest, MockTdxPki platform) {
    return reportData -> {
      VersionedAttestation va =
          VersionedAttestation.decode(honest.versionedAttestation(reportData));
      byte[] quote = platform.quote(tdx.quoteSpec(va.reportData(), va.runtimeEvents()));
      return new VersionedAttestation(
              va.wireVersion(),
              quote,
              va.eventLog(),
              va.runtimeEvents(),
              va.reportData(),
              va.config())
          .encode();
    };
  }

  private static int count(String text, String what) {
    int n = 0;
    for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + 1)) {
      n++;
    }
    return n;
  }

  private static byte[] hex(String h) {
    return java.util.HexFormat.of().parseHex(h);
  }

  private static AppKeyResponse call(
      Vertx vertx, CryptoPool workers, String url, MockTdx tdx, AttestationProvider attester)
      throws Exception {
    RaTlsKmsClient.Settings settings =
        RaTlsKmsClient.Settings.of(
            url,
            Optional.empty(),
            attester,
            new ServerAttestationPolicy(tdx.verifier(Clock.systemUTC()), false, Clock.systemUTC()));
    RaTlsKmsClient client = RaTlsKmsClient.create(vertx, workers, settings);
    return client
        .openAndCall(
            "GetAppKey",
            GetAppKeyRequest.newBuilder().setApiVersion(1).build(),
            AppKeyResponse.getDefaultInstance())
        .eventually(client::close)
        .toCompletionStage()
        .toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
  }

  private static Throwable failure(
      Vertx vertx, CryptoPool workers, String url, MockTdx tdx, AttestationProvider attester)
      throws Exception {
    try {
      call(vertx, workers, url, tdx, attester);
      throw new AssertionError("expected GetAppKey to fail");
    } catch (ExecutionException e) {
      return e.getCause();
    }
  }
}
