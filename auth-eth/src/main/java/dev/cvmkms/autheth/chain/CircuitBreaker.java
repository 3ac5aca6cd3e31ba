package dev.cvmkms.autheth.chain;

import java.util.function.LongSupplier;

/**
 * Stops calling a provider that keeps failing: opens after N consecutive failures, lets one probe
 * through after the reset time, closes on the probe's success and re-opens on its failure.
 */
public final class CircuitBreaker {
  public enum State {
    CLOSED,
    OPEN,
    HALF_OPEN
  }

  private final int threshold;
  private final long resetNanos;
  private final LongSupplier clock;
  private State state = State.CLOSED;
  private int failures;
  private long openedAt;
  private boolean probeInFlight;

  public CircuitBreaker(int threshold, long resetNanos, LongSupplier clock) {
    this.threshold = threshold;
    this.resetNanos = resetNanos;
    this.clock = clock;
  }

  /** Whether a call could start now, without claiming the half-open probe. */
  public synchronized boolean wouldAllow() {
    return switch (state) {
      case CLOSED -> true;
      case OPEN -> clock.getAsLong() - openedAt >= resetNanos;
      case HALF_OPEN -> !probeInFlight;
    };
  }

  /** Claims permission for one call; in half-open state only one caller gets it. */
  public synchronized boolean tryAcquire() {
    if (state == State.OPEN && clock.getAsLong() - openedAt >= resetNanos) {
      state = State.HALF_OPEN;
      probeInFlight = false;
    }
    switch (state) {
      case CLOSED:
        return true;
      case HALF_OPEN:
        if (probeInFlight) {
          return false;
        }
        probeInFlight = true;
        return true;
      default:
        return false;
    }
  }

  public synchronized void onSuccess() {
    state = State.CLOSED;
    failures = 0;
    probeInFlight = false;
  }

  public synchronized void onFailure() {
    failures++;
    if (state == State.HALF_OPEN || failures >= threshold) {
      state = State.OPEN;
      openedAt = clock.getAsLong();
      probeInFlight = false;
    }
  }

  public synchronized State state() {
    if (state == State.OPEN && clock.getAsLong() - openedAt >= resetNanos) {
      return State.HALF_OPEN;
    }
    return state;
  }
}
