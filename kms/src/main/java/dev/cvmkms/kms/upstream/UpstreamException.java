package dev.cvmkms.kms.upstream;

import java.util.Objects;

/**
 * A failed upstream call. Messages are built by us (upstream name, path, status, a reason) and are
 * safe to log and return: never a URL's userinfo or query, never a response body.
 */
public final class UpstreamException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String message;
  private final Outcome outcome;
  private final long retryAfterNanos;

  public UpstreamException(Outcome outcome, String message) {
    this(outcome, message, -1);
  }

  public UpstreamException(Outcome outcome, String message, long retryAfterNanos) {
    super(message, null, false, false);
    this.message = Objects.requireNonNull(message, "message");
    this.outcome = outcome;
    this.retryAfterNanos = retryAfterNanos;
  }

  /** Never null: every upstream failure is made with its message. */
  @Override
  public String getMessage() {
    return message;
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
