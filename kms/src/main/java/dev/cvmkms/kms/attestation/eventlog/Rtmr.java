package dev.cvmkms.kms.attestation.eventlog;

import dev.cvmkms.kms.attestation.Bytes;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** RTMR arithmetic: {@code RTMR = SHA-384(RTMR ‖ digest)} from 48 zero bytes. */
public final class Rtmr {
  public static final String BOOT_MR_DONE = "boot-mr-done";

  private Rtmr() {}

  public static byte[] extend(byte[] mr, byte[] digest) {
    return Bytes.sha384(mr, digest);
  }

  /** Replays all events. */
  public static byte[] replay(List<RuntimeEvent> events) {
    return replay(events, null);
  }

  /** Replays events, stopping after the first one named {@code stopAfter} (if not null). */
  public static byte[] replay(List<RuntimeEvent> events, @Nullable String stopAfter) {
    byte[] mr = new byte[48];
    for (RuntimeEvent e : events) {
      mr = extend(mr, e.digest());
      if (stopAfter != null && stopAfter.equals(e.name())) {
        break;
      }
    }
    return mr;
  }
}
