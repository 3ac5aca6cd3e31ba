package dev.cvmkms.kms.client;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/** A failed KMS call; the message says which step failed and never carries key material. */
public final class KmsClientException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Why the call failed. */
  public enum Reason {
    /** The URL or a request was unusable before anything was sent. */
    INVALID_REQUEST,
    /** Connecting, TLS, or the total deadline. */
    UNAVAILABLE,
    /** The server's certificate or attestation did not pass our checks. */
    SERVER_REJECTED,
    /** The server answered with a pRPC error. */
    RPC_ERROR,
    /** The server's answer was not a valid response. */
    BAD_RESPONSE,
    /** Making our own RA-TLS certificate failed (attestation provider, keys). */
    CLIENT_CERTIFICATE
  }

  private final String message;
  private final Reason reason;

  public KmsClientException(Reason reason, String message) {
    this(reason, message, null);
  }

  public KmsClientException(Reason reason, String message, @Nullable Throwable cause) {
    super(message, cause);
    this.message = Objects.requireNonNull(message, "message");
    this.reason = reason;
  }

  /** Never null: every failure is made with its message. */
  @Override
  public String getMessage() {
    return message;
  }

  public Reason reason() {
    return reason;
  }
}
