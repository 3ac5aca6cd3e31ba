package dev.cvmkms.kms.ops;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Readiness for {@code /healthz/ready}: keys loaded and the listener accepting, and not draining.
 * Liveness needs nothing: if the event loop can answer, the process is alive.
 */
public final class Readiness {
  private final AtomicBoolean keysLoaded = new AtomicBoolean();
  private final AtomicBoolean accepting = new AtomicBoolean();
  private final AtomicBoolean draining = new AtomicBoolean();

  public void keysLoaded() {
    keysLoaded.set(true);
  }

  public void accepting() {
    accepting.set(true);
  }

  /** Shutdown has begun: report not ready so load balancers stop sending new work. */
  public void draining() {
    draining.set(true);
  }

  public boolean isReady() {
    return keysLoaded.get() && accepting.get() && !draining.get();
  }

  /** A short reason for a not-ready answer. */
  public String reason() {
    if (draining.get()) {
      return "shutting down";
    }
    if (!keysLoaded.get()) {
      return "keys not loaded";
    }
    if (!accepting.get()) {
      return "listener not accepting";
    }
    return "ready";
  }
}
