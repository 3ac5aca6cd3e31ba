package dev.cvmkms.kms.attestation.ratls;

import dev.cvmkms.kms.attestation.AttestationException;
import dev.cvmkms.kms.attestation.AttestationException.Reason;
import dev.cvmkms.kms.attestation.eventlog.RuntimeEvent;
import dev.cvmkms.kms.attestation.eventlog.TdxEvent;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * dstack's {@code VersionedAttestation} for a TDX guest: the quote, its event log, the runtime
 * events, the declared report data and the vm_config. Wire forms (kms-protocol §10.2): V0 is {@code
 * 0x00} + SCALE, V1 is a msgpack map. Decoding is strict about structure and lenient where dstack
 * itself varies (byte fields as msgpack bin or as integer arrays).
 */
@SuppressWarnings("ArrayRecordComponent") // wire view; never compared or hashed
public record VersionedAttestation(
    int wireVersion,
    byte[] quote,
    List<TdxEvent> eventLog,
    List<RuntimeEvent> runtimeEvents,
    byte[] reportData,
    String config) {

  /** dstack caps attestations at 10 MiB. */
  public static final int MAX_SIZE = 10 << 20;

  private static final int TDX_ACPI_DATA_EVENT_TYPE = 10;
  private static final byte[] ACPI_DATA = "ACPI DATA".getBytes(StandardCharsets.US_ASCII);

  public VersionedAttestation {
    eventLog = List.copyOf(eventLog);
    runtimeEvents = List.copyOf(runtimeEvents);
    if (reportData.length != 64) {
      throw AttestationException.malformed("report_data must be 64 bytes");
    }
  }

  public static VersionedAttestation decode(byte[] b) {
    if (b == null || b.length == 0) {
      throw AttestationException.malformed("empty attestation");
    }
    if (b.length > MAX_SIZE) {
      throw AttestationException.malformed("attestation larger than 10 MiB");
    }
    int first = b[0] & 0xff;
    if (first == 0x00) {
      return decodeV0(b);
    }
    if ((first >= 0x80 && first <= 0x8f) || first == 0xde || first == 0xdf) {
      return decodeV1(b);
    }
    throw AttestationException.malformed(
        "unknown attestation format (first byte 0x" + Integer.toHexString(first) + ")");
  }

  /** V1 (msgpack) when any runtime event is V2, else V0 (SCALE), as the guest agent does. */
  public byte[] encode() {
    boolean v2 = runtimeEvents.stream().anyMatch(e -> e.version() == 2);
    return v2 ? encodeV1() : encodeV0();
  }

  /**
   * What dstack embeds in certificates: RTMR0 "ACPI DATA" events (digest kept) and the IMR 3
   * events; runtime events lose their digest (it is recomputed), other events their payload.
   */
  public VersionedAttestation stripped() {
    List<TdxEvent> kept = new ArrayList<>();
    for (TdxEvent e : eventLog) {
      boolean acpi =
          e.imr() == 0
              && e.eventType() == TDX_ACPI_DATA_EVENT_TYPE
              && java.util.Arrays.equals(e.payload(), ACPI_DATA);
      if (acpi) {
        kept.add(
            new TdxEvent(
                0, e.eventType(), e.digest(), e.event(), ACPI_DATA, e.version(), e.preimage()));
      } else if (e.imr() == 3) {
        kept.add(
            e.isRuntimeEvent()
                ? new TdxEvent(
                    3,
                    e.eventType(),
                    new byte[0],
                    e.event(),
                    e.payload(),
                    e.version(),
                    e.preimage())
                : new TdxEvent(
                    3,
                    e.eventType(),
                    e.digest(),
                    e.event(),
                    new byte[0],
                    e.version(),
                    e.preimage()));
      }
    }
    return new VersionedAttestation(wireVersion, quote, kept, runtimeEvents, reportData, config);
  }

  // ---- V0 (SCALE) ----

  private static VersionedAttestation decodeV0(byte[] b) {
    try {
      return readV0(new ScaleReader(b));
    } catch (ScaleException e) {
      throw AttestationException.malformed("SCALE: " + e.getMessage());
    }
  }

  private static VersionedAttestation readV0(ScaleReader r) throws ScaleException {
    r.readU8();
    int variant = r.readU8();
    if (variant != 0) {
      throw new AttestationException(
          Reason.UNSUPPORTED, "attestation platform variant " + variant + " is not DstackTdx");
    }
    byte[] quote = r.readBytes(Integer.MAX_VALUE, "quote");
    int n = count(r, "event_log", 11);
    List<TdxEvent> log = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      long imr = r.readU32();
      long type = r.readU32();
      byte[] digest = r.readBytes(Integer.MAX_VALUE, "event.digest");
      String event = r.readString(Integer.MAX_VALUE, "event.event");
      byte[] payload = r.readBytes(Integer.MAX_VALUE, "event.event_payload");
      if (imr > 3) {
        throw AttestationException.malformed("event IMR index " + imr);
      }
      log.add(new TdxEvent((int) imr, type, digest, event, payload, 1, null));
    }
    int m = count(r, "runtime_events", 2);
    List<RuntimeEvent> events = new ArrayList<>(m);
    for (int i = 0; i < m; i++) {
      events.add(
          RuntimeEvent.v1(
              r.readString(Integer.MAX_VALUE, "runtime_event.event"),
              r.readBytes(Integer.MAX_VALUE, "runtime_event.payload")));
    }
    byte[] reportData = r.readFixed(64, "report_data");
    String config = r.readString(Integer.MAX_VALUE, "config");
    if (r.remaining() != 0) {
      throw AttestationException.malformed("trailing bytes after V0 attestation");
    }
    return new VersionedAttestation(0, quote, log, events, reportData, config);
  }

  /** A count of elements each at least {@code minElementSize} bytes long. */
  private static int count(ScaleReader r, String what, int minElementSize) throws ScaleException {
    int n = r.readLength(Integer.MAX_VALUE, what);
    if ((long) n * minElementSize > r.remaining()) {
      throw AttestationException.malformed("SCALE: truncated at " + what);
    }
    return n;
  }

  public byte[] encodeV0() {
    ScaleWriter w = new ScaleWriter().u8(0).u8(0).bytes(quote).compact(eventLog.size());
    for (TdxEvent e : eventLog) {
      w.u32(e.imr()).u32(e.eventType()).bytes(e.digest()).string(e.event()).bytes(e.payload());
    }
    w.compact(runtimeEvents.size());
    for (RuntimeEvent e : runtimeEvents) {
      w.string(e.name()).bytes(e.payload());
    }
    return w.raw(reportData).string(config).toByteArray();
  }

  // ---- V1 (msgpack) ----

  private static VersionedAttestation decodeV1(byte[] b) {
    Map<String, Object> root = map(MsgPack.decode(b), "attestation");
    Object version = root.get("version");
    if (!(version instanceof Long v) || v != 1) {
      throw AttestationException.malformed("attestation version must be 1");
    }
    Map<String, Object> platform = map(root.get("platform"), "platform");
    Object kind = platform.get("kind");
    if (!"tdx".equals(kind)) {
      throw new AttestationException(
          Reason.UNSUPPORTED, "attestation platform " + kind + " is not tdx");
    }
    Map<String, Object> pdata = map(platform.get("data"), "platform.data");
    byte[] quote = bytes(pdata.get("quote"), "quote");
    List<TdxEvent> log = new ArrayList<>();
    for (Object o : list(pdata.get("event_log"), "event_log")) {
      Map<String, Object> e = map(o, "event");
      long imr = u32(e.get("imr"), "event.imr");
      if (imr > 3) {
        throw AttestationException.malformed("event IMR index " + imr);
      }
      log.add(
          new TdxEvent(
              (int) imr,
              u32(e.get("event_type"), "event.event_type"),
              e.containsKey("digest") ? bytes(e.get("digest"), "event.digest") : new byte[0],
              str(e.get("event"), "event.event"),
              bytes(e.get("event_payload"), "event.event_payload"),
              version(e.get("version")),
              e.get("preimage") == null ? null : preimage(e.get("preimage"))));
    }
    Map<String, Object> stack = map(root.get("stack"), "stack");
    Object skind = stack.get("kind");
    if (!"dstack".equals(skind) && !"dstack-pod".equals(skind)) {
      throw new AttestationException(Reason.UNSUPPORTED, "attestation stack " + skind);
    }
    Map<String, Object> sdata = map(stack.get("data"), "stack.data");
    List<RuntimeEvent> events = new ArrayList<>();
    for (Object o : list(sdata.get("runtime_events"), "runtime_events")) {
      Map<String, Object> e = map(o, "runtime_event");
      events.add(
          new RuntimeEvent(
              str(e.get("event"), "runtime_event.event"),
              bytes(e.get("payload"), "runtime_event.payload"),
              version(e.get("version"))));
    }
    byte[] reportData = bytes(sdata.get("report_data"), "report_data");
    if (reportData.length != 64) {
      throw AttestationException.malformed("stack.report_data must be 64 bytes");
    }
    if ("dstack-pod".equals(skind)) {
      // report_data = sha512("app-data:" ‖ payload): the payload binds, not a key.
      String payload = str(sdata.get("report_data_payload"), "report_data_payload");
      byte[] want =
          dev.cvmkms.kms.attestation.Bytes.sha512(
              ("app-data:" + payload).getBytes(StandardCharsets.UTF_8));
      if (!dev.cvmkms.kms.attestation.Bytes.equal(want, reportData)) {
        throw new AttestationException(
            Reason.REPORT_DATA_MISMATCH, "dstack-pod report_data does not match its payload");
      }
    }
    Object config = sdata.get("config");
    return new VersionedAttestation(
        1, quote, log, events, reportData, config == null ? "" : str(config, "config"));
  }

  public byte[] encodeV1() {
    MsgPack.Writer w = new MsgPack.Writer().map(3);
    w.str("version").uint(1);
    w.str("platform").map(2).str("kind").str("tdx").str("data").map(2);
    w.str("quote").intArray(quote);
    w.str("event_log").array(eventLog.size());
    for (TdxEvent e : eventLog) {
      w.map(5 + (e.version() == 2 ? 1 : 0) + (e.preimage() != null ? 1 : 0));
      w.str("imr").uint(e.imr());
      w.str("event_type").uint(e.eventType());
      w.str("digest").bin(e.digest());
      w.str("event").str(e.event());
      w.str("event_payload").bin(e.payload());
      if (e.version() == 2) {
        w.str("version").uint(2);
      }
      if (e.preimage() != null) {
        w.str("preimage").str(dev.cvmkms.kms.attestation.Bytes.hex(e.preimage()));
      }
    }
    w.str("stack").map(2).str("kind").str("dstack").str("data").map(3);
    w.str("report_data").intArray(reportData);
    w.str("runtime_events").array(runtimeEvents.size());
    for (RuntimeEvent e : runtimeEvents) {
      // as serde writes it: version only for V2
      w.map(e.version() == 2 ? 3 : 2).str("event").str(e.name()).str("payload").bin(e.payload());
      if (e.version() == 2) {
        w.str("version").uint(2);
      }
    }
    w.str("config").str(config);
    return w.toByteArray();
  }

  private static byte[] preimage(@Nullable Object o) {
    try {
      return dev.cvmkms.kms.attestation.Bytes.unhex(str(o, "event.preimage"), "event.preimage");
    } catch (AttestationException e) {
      throw AttestationException.malformed("event.preimage is not hex");
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(@Nullable Object o, String what) {
    if (o instanceof Map<?, ?> m) {
      return (Map<String, Object>) m;
    }
    throw AttestationException.malformed(what + " is not a map");
  }

  private static List<?> list(@Nullable Object o, String what) {
    if (o instanceof List<?> l) {
      return l;
    }
    throw AttestationException.malformed(what + " is not an array");
  }

  private static String str(@Nullable Object o, String what) {
    if (o instanceof String s) {
      return s;
    }
    throw AttestationException.malformed(what + " is not a string");
  }

  private static long u32(@Nullable Object o, String what) {
    if (o instanceof Long l && l >= 0 && l <= 0xffffffffL) {
      return l;
    }
    throw AttestationException.malformed(what + " is not a u32");
  }

  /** bin, or an array of integers 0..255 (plain Vec<u8> under rmp-serde). */
  private static byte[] bytes(@Nullable Object o, String what) {
    if (o instanceof byte[] b) {
      return b;
    }
    if (o instanceof List<?> l) {
      byte[] out = new byte[l.size()];
      for (int i = 0; i < out.length; i++) {
        if (!(l.get(i) instanceof Long v) || v < 0 || v > 255) {
          throw AttestationException.malformed(what + " is not a byte array");
        }
        out[i] = (byte) (long) v;
      }
      return out;
    }
    throw AttestationException.malformed(what + " is not bytes");
  }

  private static int version(@Nullable Object o) {
    if (o == null) {
      return 1;
    }
    String s = String.valueOf(o).trim().toLowerCase(java.util.Locale.ROOT);
    return switch (s) {
      case "1", "v1" -> 1;
      case "2", "v2" -> 2;
      default -> throw AttestationException.malformed("event log version " + s);
    };
  }

  @Override
  public String toString() {
    return "VersionedAttestation[V"
        + wireVersion
        + ", quote "
        + quote.length
        + " B, "
        + eventLog.size()
        + " log events, "
        + runtimeEvents.size()
        + " runtime events]";
  }
}
