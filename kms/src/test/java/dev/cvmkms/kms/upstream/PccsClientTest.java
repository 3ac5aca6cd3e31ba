package dev.cvmkms.kms.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cvmkms.kms.attestation.AttestationException;
import dev.cvmkms.kms.attestation.AttestationException.Reason;
import dev.cvmkms.kms.attestation.dcap.Collateral;
import dev.cvmkms.kms.attestation.dcap.CollateralSource;
import dev.cvmkms.kms.attestation.dcap.DcapVerifier;
import dev.cvmkms.kms.attestation.dcap.TcbStatus;
import dev.cvmkms.kms.attestation.mock.MockCollateralSpec;
import dev.cvmkms.kms.attestation.mock.MockQuoteSpec;
import dev.cvmkms.kms.attestation.mock.MockTdxPki;
import dev.cvmkms.kms.attestation.mock.PcsStub;
import dev.cvmkms.kms.config.OutboundClientConfig;
import dev.cvmkms.kms.config.PccsConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreaker.State;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The real PCCS client against the PCS stub behind a fault proxy. Faults are counted by cause
 * (requests per path, outcome tags); the only time bound asserted is the configured deadline.
 */
class PccsClientTest {
  static final Instant NOW = Instant.parse("2026-11-21T06:00:00Z");
  static final MockTdxPki PKI = new MockTdxPki("pccs-test".getBytes(StandardCharsets.UTF_8));
  static final CollateralSource.Key KEY = new CollateralSource.Key("000000000000", "platform");
  static final String TCB = "/tdx/certification/v4/tcb";

  private PcsStub stub;
  private FaultyPccs proxy;
  private PccsClient client;
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  @BeforeEach
  void start() throws Exception {
    stub = PcsStub.start(PKI, MockCollateralSpec.healthy(NOW));
    proxy = FaultyPccs.start(stub.baseUri());
  }

  @AfterEach
  void stop() {
    if (client != null) {
      client.close();
    }
    proxy.close();
    stub.close();
  }

  /** connect 1 s, attempt {@code attemptMs}, deadline {@code deadlineMs}, 2 retries. */
  private PccsClient client(long attemptMs, long deadlineMs, long maxBytes) {
    return client(attemptMs, deadlineMs, maxBytes, 1000);
  }

  private PccsClient client(long attemptMs, long deadlineMs, long maxBytes, int breakerFailures) {
    OutboundClientConfig c =
        new OutboundClientConfig(
            PccsConfig.TABLE,
            Duration.ofMillis(Math.min(1_000, attemptMs)),
            Duration.ofMillis(attemptMs),
            Duration.ofMillis(deadlineMs),
            8,
            maxBytes,
            2,
            breakerFailures,
            Duration.ofSeconds(30));
    client =
        new PccsClient(
            proxy.uri(),
            new PccsConfig(c, 16, Duration.ofHours(1), Duration.ofSeconds(10)),
            registry,
            Clock.systemUTC(),
            () -> 0.0, // no backoff wait: retries follow at once, so counts do not race the clock
            Timers.daemon("test-pccs-timer"),
            "test");
    return client;
  }

  private static AttestationException failure(PccsClient c) {
    try {
      c.fetch(KEY).toCompletableFuture().get(30, TimeUnit.SECONDS);
      throw new AssertionError("expected a failure");
    } catch (java.util.concurrent.ExecutionException | CompletionException e) {
      assertThat(e.getCause()).isInstanceOf(AttestationException.class);
      AttestationException a = (AttestationException) e.getCause();
      assertThat(a.reason()).isEqualTo(Reason.COLLATERAL_UNAVAILABLE);
      return a;
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private long calls(String outcome) {
    return registry
        .get("kms.upstream.calls")
        .tag("upstream", "pccs")
        .tag("outcome", outcome)
        .timer()
        .count();
  }

  @Test
  void fetchedCollateralVerifiesAMockQuote() throws Exception {
    Collateral c =
        client(3_000, 5_000, 1 << 20).fetch(KEY).toCompletableFuture().get(30, TimeUnit.SECONDS);
    byte[] quote = PKI.quote(new MockQuoteSpec());
    assertThat(new DcapVerifier(PKI.trustAnchor()).verify(quote, c, NOW).status())
        .isEqualTo(TcbStatus.UP_TO_DATE);
    assertThat(proxy.total()).isEqualTo(4);
    assertThat(calls("ok")).isEqualTo(4);
  }

  @Test
  void throttled_withoutRetryAfter_isRetriedMaxRetriesTimes() {
    proxy.mode(FaultyPccs.Mode.THROTTLE);
    AttestationException e = failure(client(3_000, 10_000, 1 << 20));
    assertThat(e.getMessage()).contains("HTTP 429");
    assertThat(proxy.hits(TCB)).isEqualTo(3);
    assertThat(calls("429")).isEqualTo(4);
  }

  @Test
  void throttled_withARetryAfterPastTheDeadline_isNotRetried() {
    proxy.mode(FaultyPccs.Mode.THROTTLE).retryAfter("120");
    AttestationException e = failure(client(3_000, 10_000, 1 << 20));
    assertThat(e.getMessage()).contains("HTTP 429");
    // The 429 ended it: no attempt after it. An attempt that timed out or failed before an
    // answer (a loaded machine can take the 3 s) is retried as it should be, so the TCB hits are
    // bounded by those causes (over all collateral paths), not pinned to 1.
    assertThat(calls("429")).isPositive();
    assertThat((long) proxy.hits(TCB)).isBetween(1L, 1 + calls("timeout") + calls("error"));
  }

  @Test
  void aHangingPccs_failsWithinTheDeadline_andRequestsStayBounded() {
    proxy.mode(FaultyPccs.Mode.HANG);
    long t0 = System.nanoTime();
    AttestationException e = failure(client(300, 1_000, 1 << 20));
    long tookMs = (System.nanoTime() - t0) / 1_000_000;
    assertThat(e.getMessage()).contains("timed out");
    assertThat(tookMs).isLessThan(1_000 + 2_000); // the deadline plus scheduling slack
    assertThat(proxy.hits(TCB)).isBetween(1, 3);
    assertThat(calls("timeout")).isEqualTo(4);
  }

  @Test
  void resets_5xx_garbage_andOversizedBodies_areUpstreamErrors() {
    PccsClient c = client(3_000, 10_000, 64 * 1024);
    proxy.mode(FaultyPccs.Mode.RESET);
    assertThat(failure(c).getMessage()).contains("failed");
    proxy.mode(FaultyPccs.Mode.SERVER_ERROR);
    assertThat(failure(c).getMessage()).contains("HTTP 503");
    proxy.mode(FaultyPccs.Mode.GARBAGE);
    assertThat(failure(c).getMessage()).containsAnyOf("not", "neither", "lacks");
    proxy.mode(FaultyPccs.Mode.OVERSIZED);
    assertThat(failure(c).getMessage()).contains("larger than");
    assertThat(c.upstream().breaker().getMetrics().getNumberOfFailedCalls())
        .as("4 GETs x 3 attempts x 4 faults, all counted against the PCCS")
        .isEqualTo(48);
  }

  @Test
  void consecutiveUpstreamFailures_openTheBreaker_andThenNothingIsSent() {
    PccsClient c = client(3_000, 10_000, 64 * 1024, 5);
    proxy.mode(FaultyPccs.Mode.SERVER_ERROR);
    failure(c);
    assertThat(c.upstream().breaker().getState()).isEqualTo(State.OPEN);

    proxy.mode(FaultyPccs.Mode.PASS);
    proxy.resetCounts();
    assertThat(failure(c).getMessage()).contains("circuit open");
    assertThat(proxy.total()).as("an open circuit sends nothing").isZero();
    assertThat(calls("open")).isEqualTo(4);
    assertThat(registry.get("kms.upstream.breaker.state").tag("upstream", "pccs").gauge().value())
        .isEqualTo(2.0);
  }

  @Test
  void aSlowPccsWithinTheAttemptTimeout_succeeds() throws Exception {
    proxy.mode(FaultyPccs.Mode.SLOW).slowMillis(200);
    Collateral c =
        client(3_000, 5_000, 1 << 20).fetch(KEY).toCompletableFuture().get(30, TimeUnit.SECONDS);
    assertThat(c.tcbInfoJson()).startsWith("{\"id\":\"TDX\"");
  }
}
