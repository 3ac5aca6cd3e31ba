package dev.cvmkms.kms.attestation.dcap;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cvmkms.kms.attestation.AttestationException;
import dev.cvmkms.kms.attestation.AttestationException.Reason;
import dev.cvmkms.kms.attestation.Bytes;
import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;

/** Strict field access for Intel's collateral JSON: anything missing is INVALID_COLLATERAL. */
final class JsonFields {
  static final ObjectMapper MAPPER = new ObjectMapper();

  private JsonFields() {}

  static JsonNode parse(String json, String what) {
    try {
      JsonNode n = MAPPER.readTree(json);
      if (n == null || !n.isObject()) {
        throw bad(what + " is not a JSON object");
      }
      return n;
    } catch (IOException e) {
      throw bad(what + " is not valid JSON");
    }
  }

  static AttestationException bad(String msg) {
    return new AttestationException(Reason.INVALID_COLLATERAL, msg);
  }

  static JsonNode node(JsonNode n, String f) {
    JsonNode v = n.get(f);
    if (v == null || v.isNull()) {
      throw bad("missing field " + f);
    }
    return v;
  }

  static String str(JsonNode n, String f) {
    JsonNode v = node(n, f);
    if (!v.isTextual()) {
      throw bad("field " + f + " is not a string");
    }
    return v.asText();
  }

  static int integer(JsonNode n, String f) {
    JsonNode v = node(n, f);
    if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < 0) {
      throw bad("field " + f + " is not a non-negative integer");
    }
    return v.asInt();
  }

  static byte[] hex(JsonNode n, String f, int len) {
    byte[] b;
    try {
      b = Bytes.unhex(str(n, f), f);
    } catch (AttestationException e) {
      throw bad("field " + f + " is not hex");
    }
    if (len >= 0 && b.length != len) {
      throw bad("field " + f + " has " + b.length + " bytes, not " + len);
    }
    return b;
  }

  static Instant time(JsonNode n, String f) {
    try {
      return Instant.parse(str(n, f));
    } catch (DateTimeParseException e) {
      throw bad("field " + f + " is not an RFC 3339 time");
    }
  }

  static JsonNode array(JsonNode n, String f) {
    JsonNode v = node(n, f);
    if (!v.isArray()) {
      throw bad("field " + f + " is not an array");
    }
    return v;
  }

  static List<String> advisories(JsonNode level) {
    List<String> out = new ArrayList<>();
    JsonNode a = level.get("advisoryIDs");
    if (a != null && a.isArray()) {
      for (JsonNode x : a) {
        out.add(x.asText());
      }
    }
    return List.copyOf(out);
  }
}
