package dev.cvmkms.kms.attestation;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Why a quote, its collateral or an attestation was rejected. Every failure in this package ends up
 * here with a {@link Reason}, so callers map one type and parsers never leak index or ASN.1
 * exceptions. Messages name the field that failed and never contain key material.
 */
public final class AttestationException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The closed set of rejection causes; stable enough to assert on in tests and to count. */
  public enum Reason {
    /** Bytes that do not parse: truncated, bad lengths, bad encodings. */
    MALFORMED,
    /** Well-formed but outside what we accept (SGX quote, P-384 key, other cert data types). */
    UNSUPPORTED,
    /** A certificate chain that does not lead to the pinned root, or a malformed certificate. */
    UNTRUSTED_CHAIN,
    /** A certificate listed on a CRL. */
    CERT_REVOKED,
    /**
     * A certificate, CRL, TCB Info or QE Identity outside its validity window at the given time.
     */
    EXPIRED,
    /** Collateral that is inconsistent, unsigned or of the wrong kind. */
    INVALID_COLLATERAL,
    /** A signature that does not verify (quote, QE report, TCB Info, QE Identity). */
    BAD_SIGNATURE,
    /** The QE report does not commit to the attestation key. */
    QE_BINDING_MISMATCH,
    /** The quoting enclave does not match the QE Identity. */
    QE_IDENTITY_MISMATCH,
    /** TCB Info is for another platform (FMSPC or PCE-ID). */
    FMSPC_MISMATCH,
    /** MRSIGNERSEAM/SEAMATTRIBUTES do not match the TDX module identity. */
    TDX_MODULE_MISMATCH,
    /** No TCB level matches the platform, module or QE. */
    TCB_NOT_SUPPORTED,
    /** The matching TCB level is Revoked. */
    TCB_REVOKED,
    /** The TD runs with the DEBUG attribute. */
    DEBUG_TD,
    /** Other TD attribute or TD field policy failures (SEPT_VE_DISABLE, MRSERVICETD). */
    TD_POLICY,
    /** REPORTDATA does not match the expected binding. */
    REPORT_DATA_MISMATCH,
    /** The event log replay does not match the quoted RTMR. */
    RTMR_MISMATCH,
    /** The event log or attestation envelope is inconsistent. */
    EVENT_LOG_INVALID,
    /** No attestation in the certificate. */
    NOT_ATTESTED,
    /** Collateral could not be fetched (PCCS down, timeout, bad response). */
    COLLATERAL_UNAVAILABLE,
    /** A quote could not be produced (configfs/agent errors). */
    QUOTE_UNAVAILABLE
  }

  private final Reason reason;
  // what getMessage() returns, kept non-null for publicMessage() (getMessage() is @Nullable)
  private final String fullMessage;

  public AttestationException(Reason reason, String message) {
    this(reason, message, null);
  }

  public AttestationException(Reason reason, String message, @Nullable Throwable cause) {
    super(reason + ": " + Objects.requireNonNull(message, "message"), cause);
    this.reason = Objects.requireNonNull(reason, "reason");
    this.fullMessage = reason + ": " + message;
  }

  public Reason reason() {
    return reason;
  }

  /**
   * The text a remote caller may see: for a quote or collateral that could not be obtained only the
   * reason, since the detail names internal endpoints (the guest agent's address, PCCS paths) that
   * belong in the log; otherwise the full message, which names the failed field.
   */
  public String publicMessage() {
    return switch (reason) {
      case QUOTE_UNAVAILABLE -> reason + ": no quote could be obtained";
      case COLLATERAL_UNAVAILABLE -> reason + ": collateral could not be fetched";
      default -> fullMessage;
    };
  }

  public static AttestationException malformed(String message) {
    return new AttestationException(Reason.MALFORMED, message);
  }
}
