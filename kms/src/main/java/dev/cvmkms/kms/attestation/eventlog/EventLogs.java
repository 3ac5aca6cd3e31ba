package dev.cvmkms.kms.attestation.eventlog;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cvmkms.kms.attestation.AttestationException;
import dev.cvmkms.kms.attestation.AttestationException.Reason;
import dev.cvmkms.kms.attestation.Bytes;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The dstack JSON event log ({@code [{imr, event_type, digest, event, event_payload, version?,
 * preimage?}]}, hex byte fields): parsing leniently, checking strictly, and replaying.
 */
public final class EventLogs {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** A log has a few dozen boot events and a dozen runtime events; refuse absurd ones. */
  private static final int MAX_EVENTS = 4096;

  private EventLogs() {}

  public static List<TdxEvent> parseJson(String json) {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (IOException e) {
      throw invalid("event log is not JSON");
    }
    if (root == null || !root.isArray()) {
      throw invalid("event log is not a JSON array");
    }
    if (root.size() > MAX_EVENTS) {
      throw invalid("event log has more than " + MAX_EVENTS + " events");
    }
    List<TdxEvent> out = new ArrayList<>(root.size());
    for (JsonNode n : root) {
      if (!n.isObject()) {
        throw invalid("event log entry is not an object");
      }
      long imr = number(n, "imr");
      if (imr > 3) {
        throw invalid("event log IMR index " + imr);
      }
      JsonNode pre = n.get("preimage");
      if (pre == null || pre.isNull()) {
        pre = n.get("hash_input");
      }
      out.add(
          new TdxEvent(
              (int) imr,
              number(n, "event_type"),
              hex(n, "digest", true),
              n.path("event").asText(""),
              hex(n, "event_payload", true),
              version(n.get("version")),
              pre == null || pre.isNull() ? null : unhex(pre.asText(), "preimage")));
    }
    return out;
  }

  public static String toJson(List<TdxEvent> events) {
    ArrayNode a = JSON.createArrayNode();
    for (TdxEvent e : events) {
      ObjectNode o = a.addObject();
      o.put("imr", e.imr());
      o.put("event_type", e.eventType());
      o.put("digest", Bytes.hex(e.digest()));
      o.put("event", e.event());
      o.put("event_payload", Bytes.hex(e.payload()));
      if (e.version() == 2) {
        o.put("version", 2);
      }
      if (e.preimage() != null) {
        o.put("preimage", Bytes.hex(e.preimage()));
      }
    }
    return a.toString();
  }

  /** The runtime events (IMR 3, type 0x08000001) in log order. */
  public static List<RuntimeEvent> runtimeEvents(List<TdxEvent> events) {
    List<RuntimeEvent> out = new ArrayList<>();
    for (TdxEvent e : events) {
      if (e.imr() == 3 && e.isRuntimeEvent()) {
        out.add(e.toRuntimeEvent());
      }
    }
    return out;
  }

  /** Replays one IMR (0..3 = RTMR0..3) from the log's digests. */
  public static byte[] replay(List<TdxEvent> events, int imr) {
    byte[] mr = new byte[48];
    for (TdxEvent e : events) {
      if (e.imr() == imr) {
        byte[] d = e.effectiveDigest();
        if (d.length != 48) {
          throw invalid("event digest for IMR " + imr + " is not 48 bytes");
        }
        mr = Rtmr.extend(mr, d);
      }
    }
    return mr;
  }

  /**
   * A V2 event's attached preimage must hash to the recomputed digest and be the canonical JSON;
   * otherwise a producer could show one text and measure another.
   */
  public static void requireCanonicalPreimages(List<TdxEvent> events) {
    for (TdxEvent e : events) {
      if (e.preimage() == null || !e.isRuntimeEvent()) {
        continue;
      }
      RuntimeEvent r = e.toRuntimeEvent();
      if (!Bytes.equal(e.preimage(), r.preimage())) {
        throw invalid("event '" + e.event() + "' carries a non-canonical digest preimage");
      }
    }
  }

  private static AttestationException invalid(String msg) {
    return new AttestationException(Reason.EVENT_LOG_INVALID, msg);
  }

  private static long number(JsonNode n, String f) {
    JsonNode v = n.get(f);
    if (v == null || !v.isIntegralNumber() || v.asLong() < 0 || v.asLong() > 0xffffffffL) {
      throw invalid("event log field " + f + " is not a u32");
    }
    return v.asLong();
  }

  private static byte[] hex(JsonNode n, String f, boolean optional) {
    JsonNode v = n.get(f);
    if (v == null || v.isNull()) {
      if (optional) {
        return new byte[0];
      }
      throw invalid("event log field " + f + " missing");
    }
    return unhex(v.asText(), f);
  }

  private static byte[] unhex(String s, String f) {
    try {
      return Bytes.unhex(s, f);
    } catch (AttestationException e) {
      throw invalid("event log field " + f + " is not hex");
    }
  }

  /** Absent means V1; accepts 1/2 as numbers or as "1"/"2"/"V1"/"V2". */
  static int version(JsonNode v) {
    if (v == null || v.isNull()) {
      return 1;
    }
    String s = v.asText().trim().toLowerCase(java.util.Locale.ROOT);
    return switch (s) {
      case "1", "v1" -> 1;
      case "2", "v2" -> 2;
      default -> throw invalid("event log version " + s);
    };
  }
}
