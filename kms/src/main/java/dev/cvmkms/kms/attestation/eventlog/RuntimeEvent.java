package dev.cvmkms.kms.attestation.eventlog;

import dev.cvmkms.kms.attestation.Bytes;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * A dstack runtime event (extended into RTMR3). Its digest is always recomputed from name and
 * payload, never taken from the log: V1 is {@code SHA-384(u32le(0x08000001) ‖ ":" ‖ name ‖ ":" ‖
 * payload)}, V2 is SHA-384 of the JCS text of {@code {"name","payload"(hex),"type"}}.
 */
@SuppressWarnings("ArrayRecordComponent") // equals/hashCode below compare contents
public record RuntimeEvent(String name, byte[] payload, int version) {
  public static final long EVENT_TYPE = 0x08000001L;

  public RuntimeEvent {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(payload, "payload");
    if (version != 1 && version != 2) {
      throw new IllegalArgumentException("event log version " + version);
    }
  }

  public static RuntimeEvent v1(String name, byte[] payload) {
    return new RuntimeEvent(name, payload, 1);
  }

  public static RuntimeEvent v2(String name, byte[] payload) {
    return new RuntimeEvent(name, payload, 2);
  }

  /** The exact bytes hashed into the digest. */
  public byte[] preimage() {
    if (version == 1) {
      byte[] n = name.getBytes(StandardCharsets.UTF_8);
      return Bytes.concat(new byte[] {0x01, 0x00, 0x00, 0x08, ':'}, n, new byte[] {':'}, payload);
    }
    return canonicalV2Json().getBytes(StandardCharsets.UTF_8);
  }

  /** RFC 8785 canonical JSON of the V2 digest input (keys already in sorted order). */
  public String canonicalV2Json() {
    return "{\"name\":"
        + Jcs.string(name)
        + ",\"payload\":\""
        + Bytes.hex(payload)
        + "\",\"type\":"
        + EVENT_TYPE
        + "}";
  }

  public byte[] digest() {
    return Bytes.sha384(preimage());
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RuntimeEvent e
        && name.equals(e.name)
        && version == e.version
        && java.util.Arrays.equals(payload, e.payload);
  }

  @Override
  public int hashCode() {
    return name.hashCode() * 31 + java.util.Arrays.hashCode(payload) + version;
  }

  @Override
  public String toString() {
    return "RuntimeEvent[" + name + ", " + payload.length + " bytes, v" + version + "]";
  }
}
