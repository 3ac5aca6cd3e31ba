package dev.cvmkms.autheth.cli;

/** A CLI failure with a message fit for the user (no secrets). */
final class CliException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  CliException(String message) {
    super(message, null, false, false);
  }
}
