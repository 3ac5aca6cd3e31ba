package dev.cvmkms.kms.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cvmkms.kms.attestation.MutableClock;
import dev.cvmkms.kms.config.OutboundClientConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreaker.State;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/** The shared call rules on a fake clock: no sleeping, every count by cause. */
class UpstreamTest {
  private final MutableClock clock = new MutableClock(Instant.parse("2026-05-01T00:00:00Z"));
  private final ManualTimers timers = new ManualTimers(clock);
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  /** 2 s / 3 s / 5 s, 2 retries, breaker 3 / 10 s. */
  private final OutboundClientConfig config =
      new OutboundClientConfig(
          "core.attestation.pccs",
          Duration.ofSeconds(2),
          Duration.ofSeconds(3),
          Duration.ofSeconds(5),
          8,
          1024,
          2,
          3,
          Duration.ofSeconds(10));

  private final Upstream upstream =
      new Upstream("pccs", config, registry, clock, () -> 0.5, timers);

  /** Answers attempts from a script; records each attempt's timeout. */
  private final class Script implements Upstream.Attempt<String> {
    final Deque<Object> answers = new ArrayDeque<>();
    final List<Long> timeouts = new ArrayList<>();
    final List<CompletableFuture<String>> hanging = new ArrayList<>();

    Script then(Object answer) {
      answers.add(answer);
      return this;
    }

    @Override
    public CompletableFuture<String> run(long timeoutMillis) {
      timeouts.add(timeoutMillis);
      Object a = answers.isEmpty() ? "ok" : answers.poll();
      if (a instanceof UpstreamException e) {
        return CompletableFuture.failedFuture(e);
      }
      if ("hang".equals(a)) {
        CompletableFuture<String> f = new CompletableFuture<>();
        timers.schedule(
            timeoutMillis,
            () -> f.completeExceptionally(new UpstreamException(Outcome.TIMEOUT, "timed out")));
        hanging.add(f);
        return f;
      }
      return CompletableFuture.completedFuture((String) a);
    }
  }

  private static UpstreamException fail(Outcome o) {
    return new UpstreamException(o, "pccs GET /x: " + o.tag());
  }

  private static UpstreamException throttled(long retryAfterSeconds) {
    return new UpstreamException(
        Outcome.TOO_MANY_REQUESTS, "pccs GET /x: HTTP 429", retryAfterSeconds * 1_000_000_000L);
  }

  private static Throwable failure(CompletableFuture<?> f) {
    assertThat(f).isDone();
    try {
      f.join();
      throw new AssertionError("expected a failure");
    } catch (CompletionException e) {
      return e.getCause();
    }
  }

  /** A call made only for what it does to the breaker; its (failed) future is not looked at. */
  private void feedBreaker(String what, boolean idempotent, Script script) {
    CompletableFuture<String> unused = upstream.call(what, idempotent, script);
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
  void idempotentReads_areRetriedAtMostMaxRetries_withFullJitterBackoff() {
    Script s =
        new Script()
            .then(fail(Outcome.SERVER_ERROR))
            .then(fail(Outcome.SERVER_ERROR))
            .then(fail(Outcome.SERVER_ERROR))
            .then("never");
    CompletableFuture<String> f = upstream.call("GET /x", true, s);
    assertThat(s.timeouts).hasSize(1);
    timers.advance(Duration.ofMillis(49)); // random 0.5 of the 100 ms ceiling
    assertThat(s.timeouts).hasSize(1);
    timers.advance(Duration.ofMillis(1));
    assertThat(s.timeouts).hasSize(2);
    timers.advance(Duration.ofMillis(100)); // 0.5 * 200 ms
    assertThat(s.timeouts).hasSize(3);
    assertThat(failure(f)).hasMessageEndingWith("(after 3 attempts)");
    assertThat(((UpstreamException) failure(f)).outcome()).isEqualTo(Outcome.SERVER_ERROR);
    assertThat(calls("5xx")).isEqualTo(1);
    assertThat(registry.get("kms.upstream.retries").counter().count()).isEqualTo(2);
  }

  @Test
  void writes_areNeverRetried() {
    Script s = new Script().then(fail(Outcome.SERVER_ERROR));
    CompletableFuture<String> f = upstream.call("POST /verify", false, s);
    timers.advance(Duration.ofSeconds(10));
    assertThat(s.timeouts).hasSize(1);
    assertThat(failure(f)).isInstanceOf(UpstreamException.class);
  }

  @Test
  void retryAfter_isHonoured_andARetryAfterBeyondTheDeadlineIsNotWaitedFor() {
    Script s = new Script().then(throttled(2)).then("ok");
    CompletableFuture<String> f = upstream.call("GET /x", true, s);
    timers.advance(Duration.ofMillis(1_999));
    assertThat(s.timeouts).hasSize(1);
    timers.advance(Duration.ofMillis(1));
    assertThat(f.join()).isEqualTo("ok");

    Script late = new Script().then(throttled(30));
    CompletableFuture<String> g = upstream.call("GET /x", true, late);
    assertThat(failure(g)).hasMessageContaining("HTTP 429");
    assertThat(late.timeouts).hasSize(1);
    assertThat(calls("429")).isEqualTo(1);
  }

  @Test
  void attempts_neverRunPastTheDeadline() {
    Script s = new Script().then("hang").then("hang").then("hang");
    CompletableFuture<String> f = upstream.call("GET /x", true, s);
    timers.advance(Duration.ofSeconds(6));
    assertThat(failure(f))
        .isInstanceOfSatisfying(
            UpstreamException.class, e -> assertThat(e.outcome()).isEqualTo(Outcome.TIMEOUT));
    // 3 s, then backoff 50 ms, then what is left of the 5 s deadline.
    assertThat(s.timeouts).hasSize(2);
    assertThat(s.timeouts.get(0)).isEqualTo(3_000);
    assertThat(s.timeouts.get(1)).isEqualTo(5_000 - 3_000 - 50);
    // The second timeout was cut by our deadline: it says nothing about the PCCS.
    assertThat(upstream.breaker().getMetrics().getNumberOfFailedCalls()).isEqualTo(1);
  }

  @Test
  void breaker_opensAfterConsecutiveUpstreamFailures_andThenNothingIsSent() {
    for (int i = 0; i < 3; i++) {
      feedBreaker("POST /x", false, new Script().then(fail(Outcome.ERROR)));
    }
    assertThat(upstream.breaker().getState()).isEqualTo(State.OPEN);
    Script s = new Script();
    CompletableFuture<String> f = upstream.call("GET /x", true, s);
    assertThat(s.timeouts).isEmpty();
    assertThat(failure(f))
        .isInstanceOfSatisfying(
            UpstreamException.class, e -> assertThat(e.outcome()).isEqualTo(Outcome.OPEN))
        .hasMessageContaining("pccs circuit open");
    assertThat(calls("open")).isEqualTo(1);
    assertThat(registry.get("kms.upstream.breaker.state").tag("upstream", "pccs").gauge().value())
        .isEqualTo(2.0);

    timers.advance(Duration.ofMillis(10_001));
    assertThat(upstream.call("GET /x", true, new Script().then("back")).join()).isEqualTo("back");
    assertThat(upstream.breaker().getState()).isEqualTo(State.CLOSED);
  }

  @Test
  void localRefusals_andClientErrors_neverOpenTheBreaker() {
    for (int i = 0; i < 50; i++) {
      feedBreaker("GET /x", true, new Script().then(fail(Outcome.THROTTLED)));
      feedBreaker("GET /x", true, new Script().then(fail(Outcome.CLIENT_ERROR)));
    }
    assertThat(upstream.breaker().getState()).isEqualTo(State.CLOSED);
    assertThat(calls("throttled")).isEqualTo(50);
    assertThat(calls("4xx")).isEqualTo(50);
    assertThat(upstream.breaker().getMetrics().getNumberOfFailedCalls()).isZero();
  }

  @Test
  void aRetryRefusedByTheOpeningBreaker_reportsTheUpstreamFailure() {
    // Two failures already; the next call's first attempt fails too and opens the circuit.
    feedBreaker("POST /x", false, new Script().then(fail(Outcome.ERROR)));
    feedBreaker("POST /x", false, new Script().then(fail(Outcome.ERROR)));
    CompletableFuture<String> f =
        upstream.call("GET /x", true, new Script().then(fail(Outcome.SERVER_ERROR)));
    timers.advance(Duration.ofSeconds(1));
    assertThat(((UpstreamException) failure(f)).outcome()).isEqualTo(Outcome.SERVER_ERROR);
  }

  @Test
  void aRetryTheTimerRefuses_failsTheCall_insteadOfLeavingItPending() {
    // What a stopped timer thread does during shutdown.
    Upstream refusing =
        new Upstream(
            "pccs",
            config,
            registry,
            clock,
            () -> 0.5,
            (delay, task) -> {
              throw new java.util.concurrent.RejectedExecutionException("timers stopped");
            });
    CompletableFuture<String> f =
        refusing.call("GET /x", true, new Script().then(fail(Outcome.SERVER_ERROR)));
    assertThat(failure(f))
        .isInstanceOf(java.util.concurrent.RejectedExecutionException.class)
        .hasMessage("timers stopped");
  }
}
