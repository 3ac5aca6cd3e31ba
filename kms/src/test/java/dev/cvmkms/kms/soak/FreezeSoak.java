package dev.cvmkms.kms.soak;

import dev.cvmkms.autheth.testing.Anvil;
import dev.cvmkms.autheth.testing.AuthEthJar;
import dev.cvmkms.autheth.testing.BlockedThreadWarnings;
import dev.cvmkms.autheth.testing.ChainFixture;
import dev.cvmkms.autheth.testing.FaultProxy;
import dev.cvmkms.kms.KmsProcess;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The freeze test: the seed incident as a script. anvil + our contracts, auth-eth reading them
 * through a fault proxy, and {@code kms serve} with webhook auth pointed at auth-eth. Several
 * clients poll GetMeta while the proxy answers 429 for long stretches (without, then with
 * Retry-After), then hangs, then recovers. Everything it measures goes into a {@link Result}; the
 * pass criteria are {@link Result#violations()}.
 *
 * <p>Run by {@code FreezeSoakIT} (CI, 60 s) and by {@code kms/bench/soak.sh} (10 minutes).
 */
public final class FreezeSoak {
  /** A fault phase: the proxy's mode from {@code startMs} to {@code endMs}. */
  record Phase(String name, long startMs, long endMs, FaultProxy.Mode mode, String retryAfter) {
    boolean faulty() {
      return mode != FaultProxy.Mode.PASS;
    }
  }

  /**
   * Knobs; the auth-eth limiter and the KMS refresh are the "configuration" the bounds refer to.
   */
  record Settings(
      Duration duration,
      int clients,
      Duration clientInterval,
      int rpcRatePerSec,
      int rpcBurst,
      Path workDir) {}

  static final String[] FAULT_PHASES = {"429", "429 + Retry-After", "hang"};
  static final Duration WARM_UP = Duration.ofSeconds(15);

  private FreezeSoak() {}

  static List<Phase> plan(long totalMs) {
    long a = totalMs * 15 / 100;
    long b = totalMs * 40 / 100;
    long c = totalMs * 55 / 100;
    long d = totalMs * 80 / 100;
    return List.of(
        new Phase("normal", 0, a, FaultProxy.Mode.PASS, null),
        new Phase("429", a, b, FaultProxy.Mode.THROTTLE, null),
        new Phase("429 + Retry-After", b, c, FaultProxy.Mode.THROTTLE, "2"),
        new Phase("hang", c, d, FaultProxy.Mode.HANG, null),
        new Phase("recovered", d, totalMs, FaultProxy.Mode.PASS, null));
  }

  public static Result run(Settings s) throws Exception {
    Files.createDirectories(s.workDir());
    try (Anvil anvil = Anvil.start();
        FaultProxy proxy = FaultProxy.start(anvil.url())) {
      ChainFixture chain = ChainFixture.deploy(anvil);
      try (AuthEthJar.Server auth =
          AuthEthJar.Server.start(
              Map.of(
                  "ETH_RPC_URL",
                  proxy.url(),
                  "KMS_CONTRACT_ADDR",
                  chain.kms(),
                  "METADATA_REFRESH_MS",
                  "5000",
                  "METADATA_RETRY_MS",
                  "1000",
                  "ETH_RPC_RATE_PER_SEC",
                  "" + s.rpcRatePerSec(),
                  "ETH_RPC_BURST",
                  "" + s.rpcBurst(),
                  "ETH_RPC_DEADLINE_MS",
                  "2000",
                  "ETH_RPC_ATTEMPT_TIMEOUT_MS",
                  "1000"))) {
        int port = KmsProcess.freePort();
        Path certDir = s.workDir().resolve("certs");
        Path toml = writeKmsToml(s.workDir(), certDir, port, auth.url());
        try (KmsProcess kms =
            KmsProcess.start(
                s.workDir(), port, "serve", "--config", toml.toString(), "--allow-insecure")) {
          kms.awaitReady(certDir.resolve("root-ca.crt"), Duration.ofSeconds(60));
          int[] cold;
          // Clients are closed after their phase: their idle connections would otherwise count
          // as KMS fds until the server's idle timeout, and hide a real leak in the noise.
          try (HttpClient burst = KmsProcess.client(certDir.resolve("root-ca.crt"))) {
            cold = coldStartBurst(kms, burst, 30);
          }
          warmUp(s, kms, certDir);
          proxy.resetCounts();
          Result r = soak(s, kms, certDir, proxy, auth.pid());
          r.coldStartInfoFetches = cold[0];
          r.coldStartFailedInfoCalls = cold[1];
          try (HttpClient probe = KmsProcess.client(certDir.resolve("root-ca.crt"))) {
            r.kmsInfoFetchesTotal = infoFetches(kms, probe);
          }
          r.blockedWarnings =
              BlockedThreadWarnings.blocking(kms.log()).size()
                  + BlockedThreadWarnings.blocking(auth.stderr()).size();
          r.schedulingDelays =
              BlockedThreadWarnings.parse(kms.log()).size()
                  + BlockedThreadWarnings.parse(auth.stderr()).size()
                  - r.blockedWarnings;
          return r;
        }
      }
    }
  }

  /**
   * 30 concurrent GetMeta right after ready: together with the start-up load they must coalesce
   * into at most one metadata fetch. Refreshes on the {@code info_refresh} schedule are not the
   * burst's doing and are not counted (on a loaded machine one can fall inside the burst).
   */
  private static int[] coldStartBurst(KmsProcess kms, HttpClient http, int n) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(n);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<Integer>> all = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        all.add(
            pool.submit(
                () -> {
                  go.await();
                  return http.send(kms.get("/prpc/GetMeta"), HttpResponse.BodyHandlers.discarding())
                      .statusCode();
                }));
      }
      go.countDown();
      for (Future<Integer> f : all) {
        f.get(30, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    return new int[] {unscheduledInfoLoads(kms, http), failedInfoCalls(kms, http)};
  }

  /**
   * Metadata calls that did not succeed (any outcome but ok, refusals by the open breaker
   * included). With no value to serve, a read after a failed load rightly starts the next one.
   */
  static int failedInfoCalls(KmsProcess kms, HttpClient http) throws Exception {
    String metrics = http.send(kms.get("/metrics"), HttpResponse.BodyHandlers.ofString()).body();
    double n = 0;
    for (String line : metrics.lines().toList()) {
      if (line.startsWith("kms_auth_webhook_calls_seconds_count{")
          && line.contains("operation=\"info\"")
          && !line.contains("outcome=\"ok\"")) {
        n += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return (int) n;
  }

  /**
   * Unrecorded load before the timeline, so the JIT has compiled the hot paths: the fault phases
   * should measure the KMS under faults, not a cold JVM.
   */
  private static void warmUp(Settings s, KmsProcess kms, Path certDir) throws Exception {
    long t0 = System.nanoTime();
    long ms = WARM_UP.toMillis();
    var phase =
        new java.util.concurrent.atomic.AtomicReference<>(
            new Phase("warm-up", 0, ms, FaultProxy.Mode.PASS, null));
    ExecutorService pool = Executors.newFixedThreadPool(s.clients());
    List<HttpClient> clients = new ArrayList<>();
    try {
      for (int i = 0; i < s.clients(); i++) {
        HttpClient http = KmsProcess.client(certDir.resolve("root-ca.crt"));
        clients.add(http);
        pool.execute(() -> poll(http, kms, new SoakRecorder(), phase, t0, ms, s.clientInterval()));
      }
    } finally {
      pool.shutdown();
      if (!pool.awaitTermination(ms + 15_000, TimeUnit.MILLISECONDS)) {
        pool.shutdownNow();
      }
      clients.forEach(HttpClient::close);
    }
  }

  /**
   * Metadata loads that were not the refresh schedule's (the first load at start-up and loads that
   * a read caused), from the KMS's own scrape: what a burst of reads can add, whatever the timer
   * did meanwhile on a slow machine.
   */
  static int unscheduledInfoLoads(KmsProcess kms, HttpClient http) throws Exception {
    String metrics = http.send(kms.get("/metrics"), HttpResponse.BodyHandlers.ofString()).body();
    double n = 0;
    for (String line : metrics.lines().toList()) {
      if (line.startsWith("kms_auth_info_loads_total{")
          && (line.contains("reason=\"start\"") || line.contains("reason=\"read\""))) {
        n += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return (int) n;
  }

  /** The KMS's own count of webhook metadata fetches, from its Prometheus scrape. */
  static int infoFetches(KmsProcess kms, HttpClient http) throws Exception {
    String metrics = http.send(kms.get("/metrics"), HttpResponse.BodyHandlers.ofString()).body();
    double n = 0;
    for (String line : metrics.lines().toList()) {
      if (line.startsWith("kms_auth_webhook_calls_seconds_count{")
          && line.contains("operation=\"info\"")) {
        n += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return (int) n;
  }

  private static Result soak(
      Settings s, KmsProcess kms, Path certDir, FaultProxy proxy, long authPid) throws Exception {
    long totalMs = s.duration().toMillis();
    List<Phase> phases = plan(totalMs);
    SoakRecorder rec = new SoakRecorder();
    long t0 = System.nanoTime();
    long kmsPid = kms.process().pid();
    var phaseNow = new java.util.concurrent.atomic.AtomicReference<>(phases.get(0));
    ExecutorService pool = Executors.newFixedThreadPool(s.clients() + 1);
    try {
      for (int i = 0; i < s.clients(); i++) {
        HttpClient http = KmsProcess.client(certDir.resolve("root-ca.crt"));
        pool.execute(() -> poll(http, kms, rec, phaseNow, t0, totalMs, s.clientInterval()));
      }
      // The phase controller and sampler run here; bounded by the plan's end.
      for (Phase p : phases) {
        proxy.mode(p.mode()).retryAfter(p.retryAfter());
        phaseNow.set(p);
        while (elapsedMs(t0) < p.endMs()) {
          rec.sample(
              new SoakRecorder.Sample(
                  elapsedMs(t0),
                  p.name(),
                  fds(kmsPid),
                  threads(kmsPid),
                  fds(authPid),
                  threads(authPid),
                  proxy.totalCalls()));
          Thread.sleep(Math.min(2000, Math.max(1, p.endMs() - elapsedMs(t0))));
        }
      }
      proxy.mode(FaultProxy.Mode.PASS);
    } finally {
      pool.shutdown();
      if (!pool.awaitTermination(15, TimeUnit.SECONDS)) {
        pool.shutdownNow();
      }
    }
    Result r = new Result(s, phases, totalMs, rec);
    r.upstreamPerMinute = perMinute(proxy.arrivals(), t0, totalMs);
    return r;
  }

  private static void poll(
      HttpClient http,
      KmsProcess kms,
      SoakRecorder rec,
      java.util.concurrent.atomic.AtomicReference<Phase> phase,
      long t0,
      long totalMs,
      Duration interval) {
    long next = System.nanoTime();
    while (elapsedMs(t0) < totalMs) {
      long start = System.nanoTime();
      String outcome;
      try {
        HttpResponse<Void> r =
            http.send(kms.get("/prpc/GetMeta"), HttpResponse.BodyHandlers.discarding());
        outcome = r.statusCode() == 200 ? "ok" : "http " + r.statusCode();
      } catch (HttpTimeoutException e) {
        outcome = "timeout";
      } catch (IOException e) {
        outcome = "io " + e.getClass().getSimpleName();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      long end = System.nanoTime();
      rec.call((start - t0) / 1_000_000, (end - start) / 1000, outcome, phase.get().name());
      next += interval.toNanos();
      long sleep = next - System.nanoTime();
      if (sleep > 0) {
        try {
          TimeUnit.NANOSECONDS.sleep(sleep);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      } else {
        next = System.nanoTime();
      }
    }
  }

  /** Upstream (auth-eth → provider) JSON-RPC calls in each minute of the soak. */
  static List<Long> perMinute(List<Long> arrivalsNanos, long t0, long totalMs) {
    int minutes = (int) Math.max(1, (totalMs + 59_999) / 60_000);
    long[] buckets = new long[minutes];
    for (long a : arrivalsNanos) {
      long ms = (a - t0) / 1_000_000;
      if (ms >= 0 && ms < totalMs) {
        buckets[(int) (ms / 60_000)]++;
      }
    }
    List<Long> out = new ArrayList<>();
    for (long b : buckets) {
      out.add(b);
    }
    return out;
  }

  private static Path writeKmsToml(Path dir, Path certDir, int port, String authUrl)
      throws IOException {
    String toml =
        """
        # Written by the freeze soak: webhook auth against auth-eth; no attestation (no TDX here).
        [rpc]
        address = "127.0.0.1"
        port = %d

        [rpc.tls]
        key = "%s/rpc.key"
        certs = "%s/rpc.crt"

        [rpc.tls.mutual]
        ca_certs = "%s/tmp-ca.crt"

        [core]
        cert_dir = "%s"
        enforce_self_authorization = false
        attest_rpc_cert = false

        [core.image]
        verify = false
        insecure_allow_unverified_os_image = true

        [core.auth_api]
        type = "webhook"

        [core.auth_api.webhook]
        url = "%s"
        connect_timeout = "500ms"
        attempt_timeout = "1s"
        deadline = "2s"
        info_refresh = "5s"

        [core.onboard]
        auto_bootstrap_domain = "localhost"

        # Six clients on one address poll far above the per-client default (50/s): the soak
        # measures the freeze, not the inbound limiter (RateLimiterTest and bench/faults.sh do).
        [rate_limit]
        enabled = false
        """
            .formatted(port, certDir, certDir, certDir, certDir, authUrl);
    Path file = dir.resolve("kms.toml");
    Files.writeString(file, toml, StandardCharsets.UTF_8);
    return file;
  }

  private static long elapsedMs(long t0) {
    return (System.nanoTime() - t0) / 1_000_000;
  }

  private static int fds(long pid) {
    try (Stream<Path> s = Files.list(Path.of("/proc", "" + pid, "fd"))) {
      return (int) s.count();
    } catch (IOException e) {
      return -1;
    }
  }

  private static int threads(long pid) {
    try (Stream<Path> s = Files.list(Path.of("/proc", "" + pid, "task"))) {
      return (int) s.count();
    } catch (IOException e) {
      return -1;
    }
  }

  /** Command line for kms/bench/soak.sh: {@code [seconds] [docs-dir]}. Exits 1 on a violation. */
  public static void main(String[] args) throws Exception {
    long seconds = args.length > 0 ? Long.parseLong(args[0]) : 600;
    Path docs = args.length > 1 ? Path.of(args[1]) : null;
    Path work = Files.createTempDirectory("kms-soak");
    Result r = run(defaults(Duration.ofSeconds(seconds), work));
    if (docs != null) {
      SoakReport.write(r, docs, Instant.now());
    }
    System.out.println(r.summary());
    System.exit(r.violations().isEmpty() ? 0 : 1);
  }

  static Settings defaults(Duration duration, Path work) {
    return new Settings(duration, 6, Duration.ofMillis(20), 2, 4, work);
  }
}
