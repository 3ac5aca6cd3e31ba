package dev.cvmkms.kms.attestation.tsm;

import java.io.IOException;
import java.nio.channels.WritableByteChannel;

/**
 * The file operations the configfs-tsm client needs, relative to the report directory ({@code
 * /sys/kernel/config/tsm/report}). A seam so tests can run a fake that behaves like the kernel:
 * writes commit on close, a generation counter, EBUSY, concurrent writers. Errors are the {@link
 * IOException}s the JDK raises on Linux (message = strerror), which {@link Errno} classifies.
 */
public interface TsmFs {
  /** Whether the report directory exists (configfs mounted, TSM core present). */
  boolean available();

  /** Creates a fresh entry directory named {@code prefix} + something unique; returns the name. */
  String mkdirTemp(String prefix) throws IOException;

  /** Reads a whole attribute file. */
  byte[] read(String entry, String attribute) throws IOException;

  /** Opens an attribute for writing; configfs applies binary writes when the channel closes. */
  WritableByteChannel openWrite(String entry, String attribute) throws IOException;

  /** Removes an entry directory (rmdir; its attribute files go with it). */
  void remove(String entry) throws IOException;

  /** Where this tree lives, for messages. */
  String describe();
}
