package dev.cvmkms.autheth.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cvmkms.autheth.testing.Anvil;
import dev.cvmkms.autheth.testing.AuthEthJar;
import dev.cvmkms.autheth.testing.ChainFixture;
import dev.cvmkms.autheth.testing.SteadyLoad;
import dev.cvmkms.autheth.testing.SteadyLoad.Outcome;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.SocketFactory;
import org.junit.jupiter.api.Test;

/**
 * Fault-matrix row 15 for auth-eth: SIGTERM under steady load (GET / against a real anvil chain).
 * No accepted request is cut (counted on both sides), readiness answers 503 while the listener
 * still accepts, liveness stays 200, and the process exits 0 inside SHUTDOWN_GRACE_PERIOD_MS.
 */
class ShutdownUnderLoadIT {
  static final Pattern SERVED =
      Pattern.compile("http drain: listeners closed; (\\d+) requests served in total, (\\d+) cut");

  @Test
  void sigtermUnderSteadyLoad_cutsNothing_readinessFirst_exitsZeroInsideTheBudget()
      throws Exception {
    SocketFactory plain = SocketFactory.getDefault();
    long probesAnswered = 0;
    try (Anvil anvil = Anvil.start()) {
      ChainFixture chain = ChainFixture.deploy(anvil);
      AuthEthJar.Server server =
          AuthEthJar.Server.start(
              Map.of(
                  "ETH_RPC_URL", anvil.url(),
                  "KMS_CONTRACT_ADDR", chain.kms(),
                  "HTTP_INSTANCES", "2",
                  "SHUTDOWN_PRE_DRAIN_MS", "3000",
                  "SHUTDOWN_HTTP_DRAIN_MS", "5000",
                  "SHUTDOWN_BACKGROUND_DRAIN_MS", "2000",
                  "SHUTDOWN_GRACE_PERIOD_MS", "12000"));
      try {
        int port = server.port();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
          assertThat(System.nanoTime()).as(server.stderr()).isLessThan(until);
          SteadyLoad.Probe p = SteadyLoad.probe(plain, "127.0.0.1", port, "/healthz/ready");
          if (p.outcome() == Outcome.ANSWERED) probesAnswered++;
          if (p.status().equals("200")) break;
          Thread.sleep(50); // polling while the metadata loads
        }
        try (SteadyLoad load = new SteadyLoad(plain, "127.0.0.1", port, "GET", "/")) {
          load.start(4);
          long steady = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
          while (load.answered() < 500) {
            assertThat(System.nanoTime()).as("load reaches a steady state").isLessThan(steady);
            Thread.sleep(10);
          }
          long signalWall = System.currentTimeMillis();
          long signal = System.nanoTime();
          server.process().destroy(); // SIGTERM
          SteadyLoad.Probe ready;

          long probeSent;
          do {
            probeSent = System.nanoTime();
            ready = SteadyLoad.probe(plain, "127.0.0.1", port, "/healthz/ready");
            if (ready.outcome() == Outcome.ANSWERED) probesAnswered++;
          } while (ready.status().equals("200"));
          long notReady = System.nanoTime();
          assertThat(ready.outcome()).as(server.stderr()).isEqualTo(Outcome.ANSWERED);
          assertThat(ready.status()).isEqualTo("503");
          SteadyLoad.Probe live = SteadyLoad.probe(plain, "127.0.0.1", port, "/healthz/live");
          if (live.outcome() == Outcome.ANSWERED) probesAnswered++;
          if (live.outcome() == Outcome.ANSWERED) {
            assertThat(live.status())
                .as("liveness stays 200 during the pre-drain")
                .isEqualTo("200");
          }
          assertThat(load.firstRefusedNanos() == 0 || load.firstRefusedNanos() > probeSent)
              .as("no connection refused before the readiness probe that got 503 was sent")
              .isTrue();

          assertThat(server.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
          long exited = System.nanoTime();
          String log = server.stderr();
          assertThat(server.process().exitValue()).as(log).isZero();
          assertThat(load.awaitAllStopped(30_000)).isTrue();

          Matcher m = SERVED.matcher(log);
          assertThat(m.find()).as(log).isTrue();
          long served = Long.parseLong(m.group(1));
          assertThat(Long.parseLong(m.group(2))).as("requests cut").isZero();
          assertThat(load.broken()).isEmpty();
          assertThat(load.answered() + probesAnswered)
              .as("every request the server served reached its client: %s", load.counts())
              .isEqualTo(served);
          assertThat(load.statuses()).containsOnlyKeys("200");
          assertThat(log).containsPattern("shutdown complete\\R").doesNotContain("with warning");
          assertThat(log.indexOf("readiness is 503"))
              .isLessThan(log.indexOf("listener stopped accepting"));
          assertThat(exited - signal).isLessThan(TimeUnit.SECONDS.toNanos(12));
          System.out.printf(
              "auth-eth SIGTERM under load: signal->first 503 seen %d ms, signal->readiness flip (server log) %d ms, signal->exit %d ms, %s,"
                  + " served %d%n",
              (notReady - signal) / 1_000_000,
              flipMillis(log, signalWall),
              (exited - signal) / 1_000_000,
              load.counts(),
              served);
        }
      } finally {
        server.close();
      }
    }
  }

  /**
   * Milliseconds from the signal to the server's "readiness is 503" log line (same machine clock;
   * the log shows local time to the millisecond). Reported, not asserted: it is machine-dependent.
   */
  static long flipMillis(String log, long signalWallMillis) {
    Matcher m =
        Pattern.compile("(\\d\\d:\\d\\d:\\d\\d\\.\\d{3}) .*shutdown: readiness is 503")
            .matcher(log);
    if (!m.find()) return -1;
    java.time.LocalTime flipped = java.time.LocalTime.parse(m.group(1));
    java.time.LocalTime signalled =
        java.time.Instant.ofEpochMilli(signalWallMillis)
            .atZone(java.time.ZoneId.systemDefault())
            .toLocalTime();
    long ms = java.time.Duration.between(signalled, flipped).toMillis();
    return ms < -43_200_000 ? ms + 86_400_000 : ms;
  }
}
