package dev.cvmkms.kms.upstream;

/**
 * A failed upstream call. Messages are built by us (upstream name, path, status, a reason) and are
 * safe to log and return: never a URL's userinfo or query, never a response body.
 */
public final class UpstreamException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final Outcome outcome;
  private final long retryAfterNanos;

  public UpstreamException(Outcome outcome, String message) {
    this(outcome, message, -1);
  }

  public UpstreamException(Outcome outcome, String message, long retryAfterNanos) {
    super(message, null, false, false);
    this.outcome = outcome;
    this.retryAfterNanos = retryAfterNanos;
  }

  public Outcome outcome() {
    return outcome;
  }

  /** The upstream's Retry-After in nanoseconds, or -1. */
  public long retryAfterNanos() {
    return retryAfterNanos;
  }

  UpstreamException withMessage(String message) {
    return new UpstreamException(outcome, message, retryAfterNanos);
  }
}
