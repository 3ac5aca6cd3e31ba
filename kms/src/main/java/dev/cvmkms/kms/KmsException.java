package dev.cvmkms.kms;

import java.util.Objects;

/**
 * The one error type that crosses from the service layer to the wire. The kind decides logging,
 * metrics and what text the caller sees; {@link #publicMessage()} is the only text that leaves the
 * process (INTERNAL errors send a fixed message, details stay in the log).
 */
public final class KmsException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** A small closed set of failure kinds. */
  public enum Kind {
    INVALID_REQUEST,
    NOT_ATTESTED,
    DENIED,
    UPSTREAM_UNAVAILABLE,
    INTERNAL
  }

  private final Kind kind;

  public KmsException(Kind kind, String publicMessage) {
    this(kind, publicMessage, null);
  }

  public KmsException(Kind kind, String publicMessage, Throwable cause) {
    super(Objects.requireNonNull(publicMessage, "publicMessage"), cause);
    this.kind = Objects.requireNonNull(kind, "kind");
  }

  public Kind kind() {
    return kind;
  }

  /** The message that may be sent to the caller. */
  public String publicMessage() {
    return kind == Kind.INTERNAL ? "internal error" : getMessage();
  }

  public static KmsException invalid(String message) {
    return new KmsException(Kind.INVALID_REQUEST, message);
  }
}
