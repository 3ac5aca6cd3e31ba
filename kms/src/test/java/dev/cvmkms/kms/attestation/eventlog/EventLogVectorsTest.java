package dev.cvmkms.kms.attestation.eventlog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cvmkms.kms.attestation.AttestationException;
import dev.cvmkms.kms.attestation.Bytes;
import dev.cvmkms.kms.attestation.Vectors;
import dev.cvmkms.kms.attestation.dcap.Certs;
import dev.cvmkms.kms.attestation.dcap.SgxExtension;
import dev.cvmkms.kms.attestation.dcap.TdxQuote;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Digests, replay and app identity reproduce the values in expected.json. */
class EventLogVectorsTest {
  private static final JsonNode E = Vectors.expected();

  @Test
  void digestVectors() {
    JsonNode d = E.get("event_digest_vectors");
    RuntimeEvent appId = RuntimeEvent.v1("app-id", Bytes.unhex("deadbeef", "p"));
    assertThat(Bytes.hex(appId.preimage()))
        .isEqualTo(d.get("v1_app-id_deadbeef").get("preimage").asText());
    assertThat(Bytes.hex(appId.digest()))
        .isEqualTo(d.get("v1_app-id_deadbeef").get("sha384").asText());
    assertThat(Bytes.hex(RuntimeEvent.v1("system-ready", new byte[0]).digest()))
        .isEqualTo(d.get("v1_system-ready_empty").get("sha384").asText());
    RuntimeEvent v2 = RuntimeEvent.v2("compose-hash", Bytes.unhex("abcd", "p"));
    assertThat(v2.canonicalV2Json())
        .isEqualTo(d.get("v2_compose-hash_abcd").get("preimage_utf8").asText());
    assertThat(Bytes.hex(v2.digest()))
        .isEqualTo(d.get("v2_compose-hash_abcd").get("sha384").asText());
    List<RuntimeEvent> three =
        List.of(
            RuntimeEvent.v1("app-id", new byte[] {1, 2}),
            RuntimeEvent.v1("compose-hash", new byte[] {3, 4}),
            RuntimeEvent.v1("instance-id", new byte[] {5, 6}));
    assertThat(Bytes.hex(Rtmr.replay(three)))
        .isEqualTo(d.get("replay_v1_[app-id:0102,compose-hash:0304,instance-id:0506]").asText());
  }

  @Test
  void jcsEscapesLikeRfc8785() {
    RuntimeEvent e = RuntimeEvent.v2("a\"b\\c\n\u0001é", new byte[] {(byte) 0xff});
    assertThat(e.canonicalV2Json())
        .isEqualTo("{\"name\":\"a\\\"b\\\\c\\n\\u0001é\",\"payload\":\"ff\",\"type\":134217729}");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"dstack/verifier-quote-report.json", "dstack/verifier-tdx-lite-getquote.json"})
  void fixtureReplaysAndAppInfo(String fixture) {
    JsonNode f = Vectors.json(fixture);
    JsonNode e = E.get("quotes").get(fixture);
    TdxQuote q = TdxQuote.parse(Bytes.unhex(f.get("quote").asText(), "quote"));
    List<TdxEvent> log = EventLogs.parseJson(f.get("event_log").asText());
    for (int i = 0; i < 4; i++) {
      assertThat(Bytes.hex(EventLogs.replay(log, i)))
          .isEqualTo(e.get("event_log_replay").get("rtmr" + i).get("replayed").asText())
          .isEqualTo(Bytes.hex(q.body().rtmr(i)));
    }
    List<RuntimeEvent> events = EventLogs.runtimeEvents(log);
    JsonNode want = e.get("rtmr3_events");
    assertThat(events).hasSize(want.size());
    for (int i = 0; i < events.size(); i++) {
      assertThat(events.get(i).name()).isEqualTo(want.get(i).get("event").asText());
      assertThat(Bytes.hex(events.get(i).digest()))
          .isEqualTo(want.get(i).get("digest_v1").asText());
    }
    byte[] ppid = SgxExtension.of(Certs.parsePemChain(q.pckChainPem(), "pck").get(0)).ppid();
    String vmConfig = f.get("vm_config").asText();
    check(AppInfo.derive(q.body(), events, ppid, vmConfig, false), e.get("app_info_runtime"));
    check(AppInfo.derive(q.body(), events, ppid, vmConfig, true), e.get("app_info_boottime_mr"));
  }

  private static void check(AppInfo a, JsonNode w) {
    assertThat(Bytes.hex(a.appId())).isEqualTo(w.get("app_id").asText());
    assertThat(Bytes.hex(a.composeHash())).isEqualTo(w.get("compose_hash").asText());
    assertThat(Bytes.hex(a.instanceId())).isEqualTo(w.get("instance_id").asText());
    assertThat(new String(a.keyProviderInfo(), StandardCharsets.UTF_8))
        .isEqualTo(w.get("key_provider_info").asText());
    assertThat(Bytes.hex(a.mrKeyProvider())).isEqualTo(w.get("mr_key_provider").asText());
    assertThat(Bytes.hex(a.osImageHash())).isEqualTo(w.get("os_image_hash").asText());
    assertThat(Bytes.hex(a.mrSystem())).isEqualTo(w.get("mr_system").asText());
    assertThat(Bytes.hex(a.mrAggregated())).isEqualTo(w.get("mr_aggregated").asText());
    assertThat(Bytes.hex(a.rtmr3())).isEqualTo(w.get("rtmr3_replayed").asText());
    if (w.has("device_id")) {
      assertThat(Bytes.hex(a.deviceId())).isEqualTo(w.get("device_id").asText());
    }
  }

  @Test
  void lookupsStopAtSystemReady() {
    List<RuntimeEvent> ev =
        List.of(
            RuntimeEvent.v1("app-id", new byte[] {1}),
            RuntimeEvent.v1("system-ready", new byte[0]),
            RuntimeEvent.v1("compose-hash", new byte[] {2}),
            RuntimeEvent.v1("app-id", new byte[] {3}));
    assertThat(AppInfo.find(ev, "app-id")).containsExactly(1);
    assertThat(AppInfo.find(ev, "compose-hash")).isEmpty();
  }

  @Test
  void nestedVmConfigAndGarbage() {
    assertThat(
            Bytes.hex(
                AppInfo.osImageHash("{\"vm_config\":\"{\\\"os_image_hash\\\":\\\"abCD\\\"}\"}")))
        .isEqualTo("abcd");
    assertThat(AppInfo.osImageHash("not json")).isEmpty();
    assertThat(AppInfo.osImageHash("{}")).isEmpty();
  }

  @Test
  void nonCanonicalPreimageIsRejected() {
    RuntimeEvent r = RuntimeEvent.v2("compose-hash", new byte[] {1});
    TdxEvent good =
        new TdxEvent(
            3, RuntimeEvent.EVENT_TYPE, new byte[0], r.name(), r.payload(), 2, r.preimage());
    EventLogs.requireCanonicalPreimages(List.of(good));
    byte[] spaced =
        "{\"name\": \"compose-hash\",\"payload\":\"01\",\"type\":134217729}"
            .getBytes(StandardCharsets.UTF_8);
    TdxEvent bad =
        new TdxEvent(3, RuntimeEvent.EVENT_TYPE, new byte[0], r.name(), r.payload(), 2, spaced);
    assertThatThrownBy(() -> EventLogs.requireCanonicalPreimages(List.of(bad)))
        .isInstanceOf(AttestationException.class);
  }

  @Test
  void malformedLogsAreCleanRejections() {
    for (String s :
        new String[] {
          "",
          "{}",
          "[1]",
          "[{\"imr\":9,\"event_type\":1}]",
          "[{\"imr\":0,\"event_type\":-1}]",
          "[{\"imr\":0,\"event_type\":1,\"digest\":\"zz\"}]"
        }) {
      assertThatThrownBy(() -> EventLogs.parseJson(s)).isInstanceOf(AttestationException.class);
    }
  }
}
