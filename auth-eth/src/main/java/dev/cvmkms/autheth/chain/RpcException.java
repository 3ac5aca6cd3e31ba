package dev.cvmkms.autheth.chain;

/**
 * A JSON-RPC call that did not produce a usable result. Messages are built by us from the kind and
 * status only: transport exceptions (which can carry the request URI, hence the API key) and
 * provider bodies never become part of the message, and no cause is attached.
 */
public final class RpcException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** What went wrong; also the {@code outcome} label of the call metrics. */
  public enum Kind {
    /** HTTP 429 or a JSON-RPC rate-limit error. */
    THROTTLED(true),
    /** HTTP 5xx. */
    SERVER_ERROR(true),
    /** Connection refused, reset or closed before a full response. */
    CONNECTION(true),
    /** No complete response within the attempt timeout. */
    TIMEOUT(true),
    /** A response that is not JSON-RPC, too large, or an unexpected HTTP status. */
    BAD_RESPONSE(true),
    /** A JSON-RPC error other than a revert or rate limit. */
    RPC_ERROR(false),
    /** The call reverted or returned data that does not decode. */
    REVERTED(false),
    /** The circuit breaker is open: no call was made. */
    CIRCUIT_OPEN(false),
    /** Our outbound token bucket cannot grant a call within the deadline: no call was made. */
    RATE_LIMITED(false),
    /** The inbound request's deadline passed. */
    DEADLINE(false);

    private final boolean retryable;

    Kind(boolean retryable) {
      this.retryable = retryable;
    }

    public boolean retryable() {
      return retryable;
    }

    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  private final Kind kind;
  private final long retryAfterNanos;

  public RpcException(Kind kind, String message) {
    this(kind, message, -1);
  }

  public RpcException(Kind kind, String message, long retryAfterNanos) {
    super(message, null, false, false);
    this.kind = kind;
    this.retryAfterNanos = retryAfterNanos;
  }

  public Kind kind() {
    return kind;
  }

  /** The provider's {@code Retry-After}, in nanoseconds, or -1 when it sent none. */
  public long retryAfterNanos() {
    return retryAfterNanos;
  }
}
