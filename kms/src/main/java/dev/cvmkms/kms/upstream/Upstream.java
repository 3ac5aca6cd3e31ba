package dev.cvmkms.kms.upstream;

import dev.cvmkms.kms.config.OutboundClientConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.DoubleSupplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The rules every call to one upstream follows (ARCHITECTURE §4), independent of the transport: a
 * total deadline; each attempt bounded by the attempt timeout (and by what is left of the
 * deadline); retries only for idempotent reads, at most {@code max_retries}, full-jitter backoff
 * never shorter than Retry-After and never past the deadline; one breaker per upstream fed only by
 * the upstream's own failures; and the {@code kms.upstream.*} meters. Create one per upstream at
 * start-up and share it. Clock, randomness and timers are injected, so tests run on a fake clock.
 */
public final class Upstream {
  private static final Logger LOG = LoggerFactory.getLogger(Upstream.class);

  /** An attempt with less time than this left is not started. */
  static final long MIN_ATTEMPT_MS = 50;

  /** One attempt of a call; fails with an {@link UpstreamException} naming its outcome. */
  @FunctionalInterface
  public interface Attempt<T> {
    CompletableFuture<T> run(long timeoutMillis);
  }

  private final String name;
  private final OutboundClientConfig config;
  private final Clock clock;
  private final Timers timers;
  private final Backoff backoff;
  private final CircuitBreaker breaker;
  private final UpstreamMetrics metrics;

  /**
   * @param name the {@code upstream} tag: {@code pccs}, {@code guest_agent}, {@code image_verifier}
   */
  public Upstream(
      String name,
      OutboundClientConfig config,
      MeterRegistry registry,
      Clock clock,
      DoubleSupplier random,
      Timers timers) {
    this.name = Objects.requireNonNull(name, "name");
    this.config = Objects.requireNonNull(config, "config");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.timers = Objects.requireNonNull(timers, "timers");
    this.backoff = Backoff.standard(random);
    this.breaker =
        Breakers.create(name, config.breakerFailures(), config.breakerReset(), clock, registry);
    this.metrics = new UpstreamMetrics(registry, name, breaker);
    breaker
        .getEventPublisher()
        .onStateTransition(
            e -> {
              switch (e.getStateTransition().getToState()) {
                case OPEN ->
                    LOG.warn(
                        "{} circuit opened after {} consecutive failures; failing fast for {}",
                        name,
                        config.breakerFailures(),
                        config.breakerReset());
                case CLOSED -> LOG.info("{} circuit closed: the upstream answers again", name);
                default -> LOG.debug("{} circuit {}", name, e.getStateTransition());
              }
            });
  }

  public String name() {
    return name;
  }

  public OutboundClientConfig config() {
    return config;
  }

  public CircuitBreaker breaker() {
    return breaker;
  }

  /**
   * Runs {@code attempt} under the rules above. {@code what} names the operation in errors (e.g.
   * {@code GET /tdx/certification/v4/tcb}); {@code idempotent} allows retries.
   */
  public <T> CompletableFuture<T> call(String what, boolean idempotent, Attempt<T> attempt) {
    long start = clock.millis();
    long startNanos = System.nanoTime();
    long deadlineAt = start + config.deadline().toMillis();
    CompletableFuture<T> result = new CompletableFuture<>();
    attempt(what, idempotent, attempt, deadlineAt, 0, null, result);
    return result.whenComplete(
        (v, e) ->
            metrics.call(e == null ? Outcome.OK : outcomeOf(e), System.nanoTime() - startNanos));
  }

  private <T> void attempt(
      String what,
      boolean idempotent,
      Attempt<T> attempt,
      long deadlineAt,
      int retry,
      @Nullable UpstreamException previous,
      CompletableFuture<T> result) {
    long left = deadlineAt - clock.millis();
    if (left < MIN_ATTEMPT_MS) {
      result.completeExceptionally(
          previous != null
              ? withAttempts(previous, retry)
              : new UpstreamException(
                  Outcome.THROTTLED, name + " " + what + ": no time left within the deadline"));
      return;
    }
    if (!breaker.tryAcquirePermission()) {
      result.completeExceptionally(
          previous != null
              ? withAttempts(previous, retry)
              : new UpstreamException(
                  Outcome.OPEN,
                  name
                      + " circuit open: "
                      + config.breakerFailures()
                      + " consecutive failures; next probe within "
                      + config.breakerReset().toSeconds()
                      + " s"));
      return;
    }
    long attemptMs = config.attemptTimeout().toMillis();
    long timeout = Math.min(attemptMs, left);
    boolean cutByDeadline = timeout < attemptMs;
    long t0 = System.nanoTime();
    CompletableFuture<T> f;
    try {
      f = attempt.run(timeout);
    } catch (RuntimeException e) {
      f = CompletableFuture.failedFuture(e);
    }
    // The callback settles `result` itself; the stage whenComplete returns only repeats f's
    // outcome.
    CompletableFuture<T> unused =
        f.whenComplete(
            (v, e) -> {
              try {
                long took = System.nanoTime() - t0;
                if (e == null) {
                  breaker.onSuccess(took, java.util.concurrent.TimeUnit.NANOSECONDS);
                  result.complete(v);
                  return;
                }
                UpstreamException u = asUpstream(e, what);
                Outcome o = u.outcome();
                if (o.isLocal() || (o == Outcome.TIMEOUT && cutByDeadline)) {
                  // Says nothing about the upstream: our own refusal, or our deadline ran out.
                  breaker.releasePermission();
                } else if (o.tripsBreaker()) {
                  breaker.onError(took, java.util.concurrent.TimeUnit.NANOSECONDS, u);
                } else {
                  breaker.onSuccess(took, java.util.concurrent.TimeUnit.NANOSECONDS);
                }
                if (!idempotent || !o.retryable() || retry >= config.maxRetries()) {
                  result.completeExceptionally(withAttempts(u, retry + 1));
                  return;
                }
                long waitMs = backoff.delayNanos(retry, u.retryAfterNanos()) / 1_000_000;
                if (deadlineAt - clock.millis() - waitMs < MIN_ATTEMPT_MS) {
                  result.completeExceptionally(withAttempts(u, retry + 1));
                  return;
                }
                metrics.retry();
                LOG.debug(
                    "{} {} attempt {} failed ({}); retrying in {} ms",
                    name,
                    what,
                    retry + 1,
                    o.tag(),
                    waitMs);
                timers.schedule(
                    waitMs,
                    () -> attempt(what, idempotent, attempt, deadlineAt, retry + 1, u, result));
              } catch (RuntimeException bug) {
                // e.g. the timer refusing a retry during shutdown: fail the call, never leave it
                // pending
                result.completeExceptionally(bug);
              }
            });
  }

  private UpstreamException asUpstream(Throwable e, String what) {
    Throwable t = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    if (t instanceof UpstreamException u) {
      return u;
    }
    return new UpstreamException(
        Outcome.ERROR, name + " " + what + " failed: " + t.getClass().getSimpleName());
  }

  static Outcome outcomeOf(Throwable e) {
    Throwable t = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    return t instanceof UpstreamException u ? u.outcome() : Outcome.ERROR;
  }

  private static UpstreamException withAttempts(UpstreamException e, int attempts) {
    return attempts <= 1 ? e : e.withMessage(e.getMessage() + " (after " + attempts + " attempts)");
  }
}
