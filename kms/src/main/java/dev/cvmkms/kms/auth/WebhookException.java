package dev.cvmkms.kms.auth;

/**
 * A failed webhook call. The message is safe to log and to return: it names the URL without
 * credentials or query and quotes at most a short excerpt of an error body, never a 2xx body.
 */
public final class WebhookException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** How a call ended; the tag is the {@code outcome} metric label. */
  public enum Outcome {
    OK("ok", false, false),
    CLIENT_ERROR("4xx", false, false),
    THROTTLED("429", true, true),
    SERVER_ERROR("5xx", true, true),
    TIMEOUT("timeout", true, true),
    OPEN("open", false, false),
    DECODE("decode", false, false),
    ERROR("error", true, true);

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

    /** Worth another attempt of an idempotent GET (the upstream may recover). */
    boolean retryable() {
      return retryable;
    }

    /**
     * Counts towards opening the circuit: the upstream is unavailable or overloaded. A 4xx or an
     * undecodable answer means it is up but disagrees with us, which waiting will not fix.
     */
    boolean tripsBreaker() {
      return tripsBreaker;
    }
  }

  private final Outcome outcome;
  private final int status;
  private final long retryAfterMillis;
  private final boolean local;

  WebhookException(Outcome outcome, String message) {
    this(outcome, message, 0, -1, false);
  }

  WebhookException(Outcome outcome, String message, int status, long retryAfterMillis) {
    this(outcome, message, status, retryAfterMillis, false);
  }

  WebhookException(
      Outcome outcome, String message, int status, long retryAfterMillis, boolean local) {
    // No cause and no stack: Vert.x/Netty messages can quote the request URI with its query.
    super(message, null, false, false);
    this.outcome = outcome;
    this.status = status;
    this.retryAfterMillis = retryAfterMillis;
    this.local = local;
  }

  /** Refused on our side (the pool's wait queue is full): says nothing about the webhook. */
  boolean isLocal() {
    return local;
  }

  public Outcome outcome() {
    return outcome;
  }

  /** The HTTP status, or 0 when no response arrived. */
  public int status() {
    return status;
  }

  WebhookException withMessage(String message) {
    return new WebhookException(outcome, message, status, retryAfterMillis, local);
  }

  /** The server's Retry-After in ms, or -1 if it sent none. */
  long retryAfterMillis() {
    return retryAfterMillis;
  }
}
