package dev.cvmkms.kms;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

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
  private final String message; // getMessage() is nullable in general; this one never is

  public KmsException(Kind kind, String publicMessage) {
    this(kind, publicMessage, null);
  }

  public KmsException(Kind kind, String publicMessage, @Nullable Throwable cause) {
    super(Objects.requireNonNull(publicMessage, "publicMessage"), cause);
    this.kind = Objects.requireNonNull(kind, "kind");
    this.message = publicMessage;
  }

  public Kind kind() {
    return kind;
  }

  /** The message that may be sent to the caller. */
  public String publicMessage() {
    return kind == Kind.INTERNAL ? "internal error" : message;
  }

  public static KmsException invalid(String message) {
    return new KmsException(Kind.INVALID_REQUEST, message);
  }
}
