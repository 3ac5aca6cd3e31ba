package dev.cvmkms.kms.auth;

import java.util.function.LongSupplier;

/**
 * Opens after {@code failures} consecutive failed attempts; while open every call fails fast
 * without touching the upstream. After {@code resetNanos} exactly one probe is let through
 * (half-open): its success closes the circuit, its failure opens it for another period.
 *
 * <p>State changes are a few field writes under the monitor, so it is safe to share between event
 * loops without ever blocking one for long.
 */
final class CircuitBreaker {
  enum State {
    CLOSED(0),
    HALF_OPEN(1),
    OPEN(2);

    final int gauge;

    State(int gauge) {
      this.gauge = gauge;
    }
  }

  private final int failures;
  private final long resetNanos;
  private final LongSupplier nanoClock;

  private State state = State.CLOSED;
  private int consecutiveFailures;
  private long openedAt;
  private boolean probeInFlight;

  CircuitBreaker(int failures, long resetNanos, LongSupplier nanoClock) {
    this.failures = failures;
    this.resetNanos = resetNanos;
    this.nanoClock = nanoClock;
  }

  /** May an attempt go out now? A true answer in OPEN/HALF_OPEN makes the caller the probe. */
  synchronized boolean tryAcquire() {
    switch (state) {
      case CLOSED:
        return true;
      case OPEN:
        if (nanoClock.getAsLong() - openedAt < resetNanos) {
          return false;
        }
        state = State.HALF_OPEN;
        probeInFlight = true;
        return true;
      case HALF_OPEN:
      default:
        if (probeInFlight) {
          return false;
        }
        probeInFlight = true;
        return true;
    }
  }

  synchronized void onSuccess() {
    consecutiveFailures = 0;
    probeInFlight = false;
    state = State.CLOSED;
  }

  synchronized void onFailure() {
    probeInFlight = false;
    consecutiveFailures++;
    if (state == State.HALF_OPEN || consecutiveFailures >= failures) {
      state = State.OPEN;
      openedAt = nanoClock.getAsLong();
    }
  }

  /**
   * The attempt ended in a way that says nothing about the upstream's health (a 4xx, a refused
   * local queue slot): release a probe slot without moving the counters.
   */
  synchronized void onNeutral() {
    if (state == State.HALF_OPEN && probeInFlight) {
      probeInFlight = false;
    }
  }

  synchronized State state() {
    return state;
  }

  /** Milliseconds until a probe may go out (0 if closed or due). */
  synchronized long millisUntilProbe() {
    if (state != State.OPEN) {
      return 0;
    }
    long left = resetNanos - (nanoClock.getAsLong() - openedAt);
    return Math.max(0, left / 1_000_000);
  }

  synchronized int consecutiveFailures() {
    return consecutiveFailures;
  }
}
