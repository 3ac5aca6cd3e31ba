package dev.cvmkms.autheth.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cvmkms.autheth.chain.BootInfo;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

class BootInfoParserTest {
  static final String H11 = "11".repeat(32);
  static final String H22 = "22".repeat(32);
  static final String H44 = "44".repeat(32);
  static final String H66 = "66".repeat(32);
  static final String APP = "75537828f2ce51be7289709686a69cbfdbb714f1";

  /** The body the KMS sends: lower-case hex without 0x, plus keys the webhook ignores. */
  static JsonObject kmsStyle() {
    return new JsonObject()
        .put("teeVariant", "dstack-tdx")
        .put("mrAggregated", H11)
        .put("osImageHash", H22)
        .put("mrSystem", "")
        .put("appId", APP)
        .put("composeHash", H44)
        .put("instanceId", "")
        .put("deviceId", H66)
        .put("keyProviderInfo", "")
        .put("tcbStatus", "UpToDate")
        .put("advisoryIds", new JsonArray());
  }

  static BootInfo valid(Object body) {
    var r = BootInfoParser.parse(body);
    assertThat(r).isInstanceOf(BootInfoParser.Valid.class);
    return ((BootInfoParser.Valid) r).info();
  }

  @Test
  void acceptsTheKmsBodyAndConvertsToContractTypes() {
    BootInfo info = valid(kmsStyle());
    assertThat(info.appId()).isEqualTo("0x" + APP);
    assertThat(info.instanceId()).isEqualTo("0x" + "0".repeat(40));
    assertThat(info.mrSystem()).isEqualTo("0x" + "0".repeat(64));
    assertThat(info.composeHash()).isEqualTo("0x" + H44);
    assertThat(info.tcbStatus()).isEqualTo("UpToDate");
    assertThat(info.advisoryIds()).isEmpty();
  }

  @Test
  void acceptsTheBodyAsDecodedFromTheWire() {
    Object decoded = Json.decodeValue(kmsStyle().toBuffer());
    valid(decoded);
  }

  @Test
  void leftPadsShortAndOddHexLikeUpstream() {
    BootInfo info =
        valid(
            kmsStyle()
                .put("composeHash", "0x1234")
                .put("deviceId", "0x1")
                .put("osImageHash", "0x"));
    assertThat(info.composeHash()).isEqualTo("0x" + "0".repeat(60) + "1234");
    assertThat(info.deviceId()).isEqualTo("0x" + "0".repeat(63) + "1");
    assertThat(info.osImageHash()).isEqualTo("0x" + "0".repeat(64));
  }

  @Test
  void rejectsTooLongNonHexAndMissing() {
    assertThat(BootInfoParser.parse(kmsStyle().put("mrAggregated", "00" + H11)))
        .isInstanceOf(BootInfoParser.Invalid.class);
    assertThat(BootInfoParser.parse(kmsStyle().put("mrAggregated", "zz")))
        .isInstanceOf(BootInfoParser.Invalid.class);
    assertThat(BootInfoParser.parse(kmsStyle().put("appId", "0X" + APP)))
        .isInstanceOf(BootInfoParser.Invalid.class);
    assertThat(BootInfoParser.parse(kmsStyle().put("appId", APP + "\n")))
        .isInstanceOf(BootInfoParser.Invalid.class);
    var missing = kmsStyle();
    missing.remove("deviceId");
    assertThat(BootInfoParser.parse(missing)).isInstanceOf(BootInfoParser.Invalid.class);
    assertThat(BootInfoParser.parse(new JsonObject().put("mrAggregated", "0x1234")))
        .isInstanceOf(BootInfoParser.Invalid.class);
    assertThat(BootInfoParser.parse(new JsonArray())).isInstanceOf(BootInfoParser.Invalid.class);
    assertThat(BootInfoParser.parse("text body")).isInstanceOf(BootInfoParser.Invalid.class);
    assertThat(BootInfoParser.parse(null)).isInstanceOf(BootInfoParser.Invalid.class);
    assertThat(BootInfoParser.parse(kmsStyle().put("tcbStatus", "x".repeat(129))))
        .isInstanceOf(BootInfoParser.Invalid.class);
    assertThat(
            BootInfoParser.parse(
                kmsStyle().put("advisoryIds", new JsonArray(List.of(new JsonObject())))))
        .isInstanceOf(BootInfoParser.Invalid.class);
    assertThat(BootInfoParser.parse(kmsStyle().put("composeHash", new JsonObject())))
        .isInstanceOf(BootInfoParser.Invalid.class);
  }

  @Test
  void coercesScalarsLikeAjv() {
    BootInfo info =
        valid(
            kmsStyle()
                .put("instanceId", 1)
                .put("tcbStatus", 5)
                .putNull("mrSystem")
                .put("advisoryIds", "INTEL-SA-00837"));
    assertThat(info.instanceId()).isEqualTo("0x" + "0".repeat(39) + "1");
    assertThat(info.tcbStatus()).isEqualTo("5");
    assertThat(info.mrSystem()).isEqualTo("0x" + "0".repeat(64));
    assertThat(info.advisoryIds()).containsExactly("INTEL-SA-00837");
    assertThat(valid(kmsStyle().put("tcbStatus", true)).tcbStatus()).isEqualTo("true");
  }

  @Test
  void mixedCaseAddressWithBadChecksumFailsBeforeAnyCall() {
    // EIP-55 form of APP is 0x75537828f2ce51be7289709686A69CbFDbB714F1; flip one letter's case.
    assertThat(valid(kmsStyle().put("appId", "0x75537828f2ce51be7289709686A69CbFDbB714F1")).appId())
        .isEqualTo("0x" + APP);
    assertThat(valid(kmsStyle().put("appId", APP.toUpperCase(Locale.ROOT))).appId())
        .isEqualTo("0x" + APP);
    assertThat(
            BootInfoParser.parse(
                kmsStyle().put("appId", "0x75537828f2ce51be7289709686a69CbFDbB714F1")))
        .isInstanceOf(BootInfoParser.BadAddress.class);
  }
}
