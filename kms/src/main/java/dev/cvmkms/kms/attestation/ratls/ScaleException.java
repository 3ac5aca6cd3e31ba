package dev.cvmkms.kms.attestation.ratls;

/** Malformed or oversized SCALE input. The message says what and where; it never echoes input. */
public final class ScaleException extends Exception {
  private static final long serialVersionUID = 1L;

  public ScaleException(String message) {
    super(message);
  }
}
