package dev.cvmkms.kms.keys.csr;

import java.util.Objects;

/**
 * A rejected CSR. The message is the caller-facing text of dstack's SignCert (spec §4.6 step 2):
 * {@code Failed to parse csr: …}, {@code Failed to verify csr signature: …} or {@code Unsupported
 * API version: N}. It never contains key material.
 */
public final class CsrException extends Exception {
  private static final long serialVersionUID = 1L;

  private final String message;

  public CsrException(String message) {
    super(message);
    this.message = Objects.requireNonNull(message, "message");
  }

  /** Never null: the caller-facing text above. */
  @Override
  public String getMessage() {
    return message;
  }

  static CsrException parse(String detail) {
    return new CsrException("Failed to parse csr: " + detail);
  }

  static CsrException signature(String detail) {
    return new CsrException("Failed to verify csr signature: " + detail);
  }
}
