package dev.cvmkms.kms.attestation.eventlog;

import org.jspecify.annotations.Nullable;

/**
 * One entry of dstack's JSON/SCALE event log. For runtime events (type 0x08000001) the digest is
 * recomputed from name and payload; for boot events only {@code digest} counts. {@code preimage} is
 * the optional hex digest input a V2 producer may attach (null when absent).
 */
@SuppressWarnings("ArrayRecordComponent") // parsed event log entry; never compared or hashed
public record TdxEvent(
    int imr,
    long eventType,
    byte[] digest,
    String event,
    byte[] payload,
    int version,
    byte @Nullable [] preimage) {

  public boolean isRuntimeEvent() {
    return eventType == RuntimeEvent.EVENT_TYPE;
  }

  public RuntimeEvent toRuntimeEvent() {
    return new RuntimeEvent(event, payload, version);
  }

  /** The digest that is extended into the IMR: recomputed for runtime events. */
  public byte[] effectiveDigest() {
    return isRuntimeEvent() ? toRuntimeEvent().digest() : digest;
  }

  public static TdxEvent ofRuntime(RuntimeEvent e) {
    return new TdxEvent(
        3, RuntimeEvent.EVENT_TYPE, e.digest(), e.name(), e.payload(), e.version(), null);
  }
}
