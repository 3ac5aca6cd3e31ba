package dev.cvmkms.autheth.policy;

import dev.cvmkms.autheth.chain.BootInfo;
import dev.cvmkms.autheth.config.Addresses;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Upstream's BootInfo rules: its JSON schema under fastify's default Ajv options (scalars coerced
 * to strings, {@code null} to "", a scalar {@code advisoryIds} wrapped in an array, unknown keys
 * ignored), then its hex conversion (strip {@code 0x}, left-pad with zeros to the full width).
 */
public final class BootInfoParser {
  /** Outcome: a request for the contract, a 400, or upstream's pre-RPC failure (bad checksum). */
  public sealed interface Result {}

  public record Valid(BootInfo info) implements Result {}

  public record Invalid(String why) implements Result {}

  /** Mixed-case address with a wrong checksum: upstream fails inside ethers, before any call. */
  public record BadAddress(String field) implements Result {}

  private static final Pattern HEX20 = Pattern.compile("0x[0-9a-fA-F]{0,40}|[0-9a-fA-F]{0,40}");
  private static final Pattern HEX32 = Pattern.compile("0x[0-9a-fA-F]{0,64}|[0-9a-fA-F]{0,64}");
  private static final List<String> REQUIRED =
      List.of("mrAggregated", "osImageHash", "appId", "composeHash", "instanceId", "deviceId");

  private BootInfoParser() {}

  /**
   * Parses a boot-info request body.
   *
   * @param body the parsed JSON body: a JsonObject, or anything else (which is a 400)
   */
  public static Result parse(@Nullable Object body) {
    if (body instanceof Map<?, ?> raw) {
      @SuppressWarnings("unchecked")
      Map<String, Object> typed = (Map<String, Object>) raw;
      body = new JsonObject(typed);
    }
    if (!(body instanceof JsonObject json)) {
      return new Invalid("body must be an object");
    }
    View m = new View(json);
    for (String key : REQUIRED) {
      if (!m.containsKey(key)) {
        return new Invalid("missing " + key);
      }
    }
    try {
      String mrAggregated = hex(m, "mrAggregated", HEX32, 64);
      String osImageHash = hex(m, "osImageHash", HEX32, 64);
      String appId = hex(m, "appId", HEX20, 40);
      String composeHash = hex(m, "composeHash", HEX32, 64);
      String instanceId = hex(m, "instanceId", HEX20, 40);
      String deviceId = hex(m, "deviceId", HEX32, 64);
      String mrSystem =
          m.containsKey("mrSystem") ? hex(m, "mrSystem", HEX32, 64) : "0x" + "0".repeat(64);
      String tcbStatus = m.containsKey("tcbStatus") ? string(m.get("tcbStatus"), "tcbStatus") : "";
      if (tcbStatus.codePointCount(0, tcbStatus.length()) > 128) {
        return new Invalid("tcbStatus too long");
      }
      List<String> advisories =
          m.containsKey("advisoryIds") ? advisories(m.get("advisoryIds")) : List.of();
      Optional<String> app = Addresses.parse(appId);
      if (app.isEmpty()) {
        return new BadAddress("appId");
      }
      Optional<String> instance = Addresses.parse(instanceId);
      if (instance.isEmpty()) {
        return new BadAddress("instanceId");
      }
      return new Valid(
          new BootInfo(
              app.get(),
              composeHash.toLowerCase(Locale.ROOT),
              instance.get(),
              deviceId.toLowerCase(Locale.ROOT),
              mrAggregated.toLowerCase(Locale.ROOT),
              mrSystem.toLowerCase(Locale.ROOT),
              osImageHash.toLowerCase(Locale.ROOT),
              tcbStatus,
              advisories));
    } catch (IllegalArgumentException e) {
      return new Invalid(String.valueOf(e.getMessage()));
    }
  }

  /** Values with nested maps and lists wrapped as JsonObject / JsonArray. */
  private record View(JsonObject json) {
    boolean containsKey(String key) {
      return json.containsKey(key);
    }

    Object get(String key) {
      return json.getValue(key);
    }
  }

  /** Validates against the pattern, then converts like upstream's decodeHex (case kept). */
  private static String hex(View m, String key, Pattern pattern, int digits) {
    String v = string(m.get(key), key);
    if (!pattern.matcher(v).matches()) {
      throw new IllegalArgumentException(key + " is not hex of the allowed length");
    }
    String bare = v.startsWith("0x") ? v.substring(2) : v;
    return "0x" + "0".repeat(digits - bare.length()) + bare;
  }

  /** Ajv's {@code coerceTypes: "array"} to string; objects and longer arrays are invalid. */
  static String string(Object v, String key) {
    if (v == null) {
      return "";
    }
    if (v instanceof String s) {
      return s;
    }
    if (v instanceof Boolean b) {
      return b.toString();
    }
    if (v instanceof Number n) {
      return jsNumber(n);
    }
    if (v instanceof JsonArray a && a.size() == 1 && !(a.getValue(0) instanceof JsonArray)) {
      return string(a.getValue(0), key);
    }
    throw new IllegalArgumentException(key + " must be a string");
  }

  private static List<String> advisories(Object v) {
    List<Object> items;
    if (v instanceof JsonArray a) {
      items = new ArrayList<>();
      for (int i = 0; i < a.size(); i++) {
        items.add(a.getValue(i));
      }
    } else if (v instanceof JsonObject) {
      throw new IllegalArgumentException("advisoryIds must be an array");
    } else {
      items = new ArrayList<>();
      items.add(v);
    }
    if (items.size() > 128) {
      throw new IllegalArgumentException("too many advisoryIds");
    }
    List<String> out = new ArrayList<>(items.size());
    for (Object item : items) {
      String s = string(item, "advisoryIds[]");
      if (s.codePointCount(0, s.length()) > 256) {
        throw new IllegalArgumentException("advisory id too long");
      }
      out.add(s);
    }
    return out;
  }

  /** JavaScript's number-to-string for the common cases (integral values lose their ".0"). */
  private static String jsNumber(Number n) {
    BigDecimal d = new BigDecimal(n.toString());
    try {
      return d.toBigIntegerExact().toString();
    } catch (ArithmeticException notIntegral) {
      return d.stripTrailingZeros().toPlainString();
    }
  }
}
