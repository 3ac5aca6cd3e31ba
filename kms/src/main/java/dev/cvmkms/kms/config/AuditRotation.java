package dev.cvmkms.kms.config;

/**
 * {@code [core.audit]} rotation: when the next line would take the file past {@code maxBytes}, the
 * file becomes {@code <path>.1} (older ones shift to {@code .2} … and the oldest beyond {@code
 * keepFiles} is deleted) and a new file is started. Lines are never split: a rotation happens
 * between two lines, and one line longer than the limit gets a file of its own.
 *
 * @param maxBytes size limit of the current file ({@code max_size}, 4 KiB … 1 GiB)
 * @param keepFiles rotated files kept beside it ({@code keep_files}, 1 … 1000)
 */
public record AuditRotation(long maxBytes, int keepFiles) {
  public static final AuditRotation DEFAULTS = new AuditRotation(64L << 20, 5);

  public AuditRotation {
    Checks.bytes("core.audit.max_size", maxBytes, 4096, 1L << 30);
    Checks.intRange("core.audit.keep_files", keepFiles, 1, 1000);
  }
}
