package dev.cvmkms.kms.upstream;

/**
 * How one upstream call ended: the {@code outcome} tag of {@code kms.upstream.calls}. Only answers
 * from (or silence of) the upstream move its breaker; {@link #OPEN} and {@link #THROTTLED} are
 * refusals of our own and are neutral.
 */
public enum Outcome {
  OK("ok", false, false),
  /** A 4xx other than 429: the upstream works, the request was refused. */
  CLIENT_ERROR("4xx", false, false),
  /** HTTP 429 from the upstream. */
  TOO_MANY_REQUESTS("429", true, true),
  SERVER_ERROR("5xx", true, true),
  /** No complete answer within the attempt timeout. */
  TIMEOUT("timeout", true, true),
  /** Connection refused or reset, an oversized or undecodable body. */
  ERROR("error", true, true),
  /** Our breaker is open: nothing was sent. */
  OPEN("open", false, false),
  /** Refused locally: no connection slot, or the deadline left no room for an attempt. */
  THROTTLED("throttled", false, false);

  private final String tag;
  private final boolean retryable;
  private final boolean tripsBreaker;

  Outcome(String tag, boolean retryable, boolean tripsBreaker) {
    this.tag = tag;
    this.retryable = retryable;
    this.tripsBreaker = tripsBreaker;
  }

  public String tag() {
    return tag;
  }

  public boolean retryable() {
    return retryable;
  }

  /** Counts as a failure of the upstream (else: a success, or neutral when local). */
  public boolean tripsBreaker() {
    return tripsBreaker;
  }

  /** A refusal of our own: the upstream was not asked. */
  public boolean isLocal() {
    return this == OPEN || this == THROTTLED;
  }

  /** The outcome of an HTTP status other than 2xx. */
  public static Outcome ofStatus(int status) {
    if (status == 429) {
      return TOO_MANY_REQUESTS;
    }
    return status >= 500 ? SERVER_ERROR : CLIENT_ERROR;
  }
}
