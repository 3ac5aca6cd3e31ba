package dev.cvmkms.kms.attestation.tsm;

import java.io.IOException;
import java.util.Locale;

/**
 * Classifies the IOExceptions the JDK throws for configfs by their strerror text (the JDK exposes
 * no errno). The kernel's meanings are in spec tdx-attestation §1.4.
 */
enum Errno {
  EBUSY("device or resource busy"),
  EINTR("interrupted system call"),
  ETIMEDOUT("timed out"),
  EINVAL("invalid argument"),
  EIO("input/output error"),
  ENXIO("no such device or address"),
  EFBIG("file too large"),
  OTHER("");

  final String text;

  Errno(String text) {
    this.text = text;
  }

  static Errno of(IOException e) {
    String m = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
    String r =
        e instanceof java.nio.file.FileSystemException f && f.getReason() != null
            ? f.getReason().toLowerCase(Locale.ROOT)
            : "";
    for (Errno x : values()) {
      if (x != OTHER && (m.contains(x.text) || r.contains(x.text))) {
        return x;
      }
    }
    return OTHER;
  }

  /** Worth another attempt: the previous request is in flight, a signal, or the host was slow. */
  boolean transientError() {
    return this == EBUSY || this == EINTR || this == ETIMEDOUT;
  }
}
