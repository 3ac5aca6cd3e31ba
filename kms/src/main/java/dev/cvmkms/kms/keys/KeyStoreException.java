package dev.cvmkms.kms.keys;

import java.io.IOException;

/**
 * The key store cannot be used as it is: files missing, unreadable, corrupt or inconsistent, or a
 * write that would overwrite existing root keys. The message names the files and how to recover; it
 * never contains key material.
 */
public final class KeyStoreException extends IOException {
  private static final long serialVersionUID = 1L;

  public KeyStoreException(String message) {
    super(message);
  }

  public KeyStoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
