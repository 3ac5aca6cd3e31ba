package dev.cvmkms.kms.attestation.ratls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cvmkms.kms.attestation.AttestationException;
import dev.cvmkms.kms.attestation.AttestationException.Reason;
import dev.cvmkms.kms.attestation.AttestationVerifier;
import dev.cvmkms.kms.attestation.BootInfo;
import dev.cvmkms.kms.attestation.Bytes;
import dev.cvmkms.kms.attestation.Vectors;
import dev.cvmkms.kms.attestation.VerifiedAttestation;
import dev.cvmkms.kms.attestation.dcap.CollateralSource;
import dev.cvmkms.kms.attestation.dcap.DcapVerifier;
import dev.cvmkms.kms.attestation.dcap.TdxQuote;
import dev.cvmkms.kms.attestation.dcap.TrustAnchor;
import dev.cvmkms.kms.attestation.eventlog.EventLogs;
import dev.cvmkms.kms.attestation.eventlog.Rtmr;
import dev.cvmkms.kms.attestation.eventlog.RuntimeEvent;
import dev.cvmkms.kms.attestation.eventlog.TdxEvent;
import dev.cvmkms.kms.attestation.mock.MockTdx;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RaTlsTest {
  static final Instant NOW = Instant.parse("2026-11-21T06:00:00Z");

  @Test
  void reportDataVector() {
    assertThat(Bytes.hex(RaTlsExtensions.reportData(new byte[0])))
        .isEqualTo(
            Vectors.expected()
                .get("report_data_vectors")
                .get("sha512(\"ratls-cert:\") (empty content)")
                .asText());
  }

  @ParameterizedTest
  @ValueSource(strings = {"guest-agent-attestation-v0.bin", "verifier-tdx-lite-attestation.json"})
  void realV0AttestationsDecodeAndReencode(String name) {
    byte[] raw =
        name.endsWith(".bin")
            ? Vectors.bytes("dstack/" + name)
            : Bytes.unhex(Vectors.json("dstack/" + name).get("attestation").asText(), "att");
    JsonNode e = Vectors.expected().get("quotes").get("dstack/" + name + "#quote");
    VersionedAttestation a = VersionedAttestation.decode(raw);
    assertThat(a.wireVersion()).isZero();
    assertThat(a.encodeV0()).isEqualTo(raw);
    assertThat(Bytes.hex(Bytes.sha256(a.quote()))).isEqualTo(e.get("sha256").asText());
    assertThat(a.eventLog()).hasSize(e.get("event_log_entries").asInt());
    assertThat(a.runtimeEvents()).hasSize(e.get("runtime_events").size());
    assertThat(Bytes.hex(a.reportData())).isEqualTo(e.get("report_data").asText());
    TdxQuote q = TdxQuote.parse(a.quote());
    assertThat(Rtmr.replay(a.runtimeEvents())).isEqualTo(q.body().rtmr3());
    // V1 round trip of the same content
    VersionedAttestation v1 = VersionedAttestation.decode(a.encodeV1());
    assertThat(v1.wireVersion()).isEqualTo(1);
    assertThat(v1.quote()).isEqualTo(a.quote());
    assertThat(v1.runtimeEvents()).isEqualTo(a.runtimeEvents());
    assertThat(v1.encodeV0()).isEqualTo(raw);
  }

  @Test
  void dstackQuoteReportVerifiesEndToEndWithItsBootInfo() {
    JsonNode f = Vectors.json("dstack/verifier-quote-report.json");
    byte[] quote = Bytes.unhex(f.get("quote").asText(), "quote");
    List<TdxEvent> log = EventLogs.parseJson(f.get("event_log").asText());
    VersionedAttestation att =
        new VersionedAttestation(
            0,
            quote,
            log,
            EventLogs.runtimeEvents(log),
            Bytes.unhex(f.get("report_data").asText(), "rd"),
            f.get("vm_config").asText());
    AttestationVerifier v =
        new AttestationVerifier(
            new DcapVerifier(TrustAnchor.intelSgxRoot()),
            CollateralSource.fixed(
                Vectors.collateral("dcap-qvl/tdx_quote_outdated_collateral.json")));
    VerifiedAttestation va = v.verify(att, att.reportData(), Vectors.windowMiddle(1));
    JsonNode want = Vectors.expected().get("quotes").get("dstack/verifier-quote-report.json");
    for (boolean boot : new boolean[] {false, true}) {
      JsonNode w = want.get(boot ? "app_info_boottime_mr" : "app_info_runtime");
      BootInfo b = va.bootInfo(boot, null);
      assertThat(b.teeVariant()).isEqualTo("dstack-tdx");
      assertThat(b.tcbStatus()).isEqualTo("UpToDate");
      assertThat(b.advisoryIds()).isEmpty();
      assertThat(b.appId()).isEqualTo(w.get("app_id").asText());
      assertThat(b.composeHash()).isEqualTo(w.get("compose_hash").asText());
      assertThat(b.instanceId()).isEqualTo(w.get("instance_id").asText());
      assertThat(b.mrSystem()).isEqualTo(w.get("mr_system").asText());
      assertThat(b.mrAggregated()).isEqualTo(w.get("mr_aggregated").asText());
      assertThat(b.osImageHash()).isEqualTo(w.get("os_image_hash").asText());
      assertThat(b.deviceId()).isEqualTo(want.get("app_info_runtime").get("device_id").asText());
      assertThat(new String(Bytes.unhex(b.keyProviderInfo(), "kp"), StandardCharsets.UTF_8))
          .isEqualTo(w.get("key_provider_info").asText());
    }
  }

  private static X509Certificate ratlsCert(MockTdx mock, KeyPair kp, KeyPair boundTo)
      throws Exception {
    byte[] rd = RaTlsExtensions.reportData(boundTo.getPublic().getEncoded());
    return TestCerts.cert(kp, List.of(RaTlsExtensions.attestationExtension(mock.attestation(rd))));
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2})
  void mockRaTlsCertificateVerifies(int eventLogVersion) throws Exception {
    MockTdx mock = new MockTdx(MockTdx.defaultSeed(), NOW, eventLogVersion);
    KeyPair kp = TestCerts.p256();
    X509Certificate cert = ratlsCert(mock, kp, kp);
    byte[] ext = RaTlsExtensions.content(cert, RaTlsExtensions.ATTESTATION);
    assertThat(ext[0] & 0xff).isEqualTo(eventLogVersion == 1 ? 0x00 : 0x83);

    VerifiedAttestation va = mock.verifier().verifyCertificate(cert, NOW);
    BootInfo runtime = va.bootInfo(false, null);
    BootInfo boot = va.bootInfo(true, null);
    assertThat(runtime.appId()).isEqualTo(Bytes.hex(mock.appId()));
    assertThat(runtime.composeHash()).isEqualTo(Bytes.hex(mock.composeHash()));
    assertThat(runtime.tcbStatus()).isEqualTo("UpToDate");
    assertThat(runtime.deviceId()).isEqualTo(Bytes.hex(Bytes.sha256(mock.pki().ppid())));
    assertThat(runtime.keyProviderInfo()).isNotEmpty();
    assertThat(boot.keyProviderInfo()).isEmpty();
    assertThat(boot.mrAggregated()).isNotEqualTo(runtime.mrAggregated());
    assertThat(runtime.osImageHash()).hasSize(64);
    // the stripped form keeps the ACPI-data digests of RTMR0 and the runtime events, no digests
    assertThat(va.attestation().eventLog())
        .allMatch(
            e ->
                (e.imr() == 3 && e.digest().length == 0)
                    || (e.imr() == 0 && e.digest().length == 48));
    assertThat(va.attestation().eventLog()).anyMatch(e -> e.imr() == 0);
  }

  @Test
  void endToEndThroughThePcsStubAndTheCache() throws Exception {
    MockTdx mock = MockTdx.create(NOW);
    try (var stub =
        dev.cvmkms.kms.attestation.mock.PcsStub.start(
            mock.pki(), dev.cvmkms.kms.attestation.mock.MockCollateralSpec.healthy(NOW))) {
      var cache =
          dev.cvmkms.kms.upstream.PccsClient.cached(
              stub.baseUri(),
              dev.cvmkms.kms.config.PccsConfig.defaults(),
              new io.micrometer.core.instrument.simple.SimpleMeterRegistry(),
              new dev.cvmkms.kms.attestation.MutableClock(NOW),
              "test");
      AttestationVerifier v = new AttestationVerifier(mock.dcapVerifier(), cache);
      for (int i = 0; i < 3; i++) {
        KeyPair kp = TestCerts.p256();
        VerifiedAttestation va = v.verifyCertificate(ratlsCert(mock, kp, kp), NOW);
        assertThat(va.bootInfo(false, null).tcbStatus()).isEqualTo("UpToDate");
      }
      assertThat(stub.hits("/tdx/certification/v4/tcb")).isEqualTo(1);
    }
  }

  @Test
  void attestationBoundToAnotherKeyIsRejected() throws Exception {
    MockTdx mock = MockTdx.create(NOW);
    X509Certificate cert = ratlsCert(mock, TestCerts.p256(), TestCerts.p256());
    assertThatThrownBy(() -> mock.verifier().verifyCertificate(cert, NOW))
        .isInstanceOfSatisfying(
            AttestationException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.REPORT_DATA_MISMATCH));
  }

  @Test
  void extraRuntimeEventBreaksRtmr3() {
    MockTdx mock = MockTdx.create(NOW);
    byte[] rd = new byte[64];
    VersionedAttestation a = mock.attestation(rd);
    List<RuntimeEvent> more = new ArrayList<>(a.runtimeEvents());
    more.add(RuntimeEvent.v1("injected", new byte[] {1}));
    VersionedAttestation bent =
        new VersionedAttestation(0, a.quote(), a.eventLog(), more, rd, a.config());
    assertThatThrownBy(() -> mock.verifier().verify(bent, rd, NOW))
        .isInstanceOfSatisfying(
            AttestationException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.RTMR_MISMATCH));
    VersionedAttestation otherRd =
        new VersionedAttestation(
            0, a.quote(), a.eventLog(), a.runtimeEvents(), new byte[64].clone(), a.config());
    byte[] rd2 = new byte[64];
    rd2[0] = 1;
    VersionedAttestation lying =
        new VersionedAttestation(0, a.quote(), a.eventLog(), a.runtimeEvents(), rd2, a.config());
    assertThat(mock.verifier().verify(otherRd, rd, NOW)).isNotNull();
    assertThatThrownBy(() -> mock.verifier().verify(lying, rd2, NOW))
        .isInstanceOfSatisfying(
            AttestationException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.REPORT_DATA_MISMATCH));
  }

  @Test
  void legacyQuoteAndEventLogExtensions() throws Exception {
    MockTdx mock = MockTdx.create(NOW);
    KeyPair kp = TestCerts.p256();
    VersionedAttestation a =
        mock.attestation(RaTlsExtensions.reportData(kp.getPublic().getEncoded()));
    X509Certificate cert =
        TestCerts.cert(
            kp,
            List.of(
                RaTlsExtensions.extension(RaTlsExtensions.TDX_QUOTE, a.quote()),
                RaTlsExtensions.extension(
                    RaTlsExtensions.EVENT_LOG,
                    EventLogs.toJson(a.eventLog()).getBytes(StandardCharsets.UTF_8))));
    VerifiedAttestation va = mock.verifier().verifyCertificate(cert, NOW);
    assertThat(va.bootInfo(false, mock.vmConfig()).appId()).isEqualTo(Bytes.hex(mock.appId()));
  }

  @Test
  void certificateWithoutAttestation() throws Exception {
    X509Certificate cert = TestCerts.cert(TestCerts.p256(), List.of());
    assertThatThrownBy(() -> MockTdx.create(NOW).verifier().verifyCertificate(cert, NOW))
        .isInstanceOfSatisfying(
            AttestationException.class, e -> assertThat(e.reason()).isEqualTo(Reason.NOT_ATTESTED));
  }

  @Test
  void v1CarriesPreimagesAndTheyAreChecked() {
    MockTdx mock = new MockTdx(MockTdx.defaultSeed(), NOW, 2);
    byte[] rd = new byte[64];
    VersionedAttestation a = mock.attestation(rd);
    List<TdxEvent> withPre = new ArrayList<>();
    for (TdxEvent e : a.eventLog()) {
      withPre.add(
          e.isRuntimeEvent()
              ? new TdxEvent(
                  e.imr(),
                  e.eventType(),
                  e.digest(),
                  e.event(),
                  e.payload(),
                  e.version(),
                  e.toRuntimeEvent().preimage())
              : e);
    }
    VersionedAttestation b =
        VersionedAttestation.decode(
            new VersionedAttestation(1, a.quote(), withPre, a.runtimeEvents(), rd, a.config())
                .encodeV1());
    assertThat(b.eventLog()).anyMatch(e -> e.preimage() != null);
    assertThat(mock.verifier().verify(b, rd, NOW)).isNotNull();
    List<TdxEvent> lying = new ArrayList<>(b.eventLog());
    int i = lying.size() - 1;
    TdxEvent last = lying.get(i);
    lying.set(
        i,
        new TdxEvent(
            3,
            last.eventType(),
            last.digest(),
            last.event(),
            last.payload(),
            2,
            "{}".getBytes(StandardCharsets.UTF_8)));
    VersionedAttestation c =
        new VersionedAttestation(1, b.quote(), lying, b.runtimeEvents(), rd, b.config());
    assertThatThrownBy(() -> mock.verifier().verify(c, rd, NOW))
        .isInstanceOfSatisfying(
            AttestationException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.EVENT_LOG_INVALID));
  }

  @Test
  void msgpackByteFieldsAcceptBinOrIntegerArrays() {
    MsgPack.Writer w = new MsgPack.Writer().map(2);
    w.str("a").bin(new byte[] {1, 2});
    w.str("b").intArray(new byte[] {(byte) 200, 3});
    Object o = MsgPack.decode(w.toByteArray());
    assertThat(o).isInstanceOf(java.util.Map.class);
    assertThat((byte[]) ((java.util.Map<?, ?>) o).get("a")).containsExactly(1, 2);
    assertThat(((java.util.Map<?, ?>) o).get("b")).isEqualTo(List.of(200L, 3L));
  }

  @Test
  void scaleCompactRoundTrips() throws ScaleException {
    for (long n :
        new long[] {0, 1, 63, 64, 16383, 16384, (1L << 30) - 1, 1L << 30, Integer.MAX_VALUE}) {
      byte[] b = new ScaleWriter().compact(n).toByteArray();
      assertThat(new ScaleReader(b).readLength(Integer.MAX_VALUE, "n")).isEqualTo((int) n);
    }
    // the lite fixture starts 00 00 39 4e: a quote of 0x4e39 >> 2 = 5006 bytes
    assertThat(new ScaleReader(new byte[] {0x39, 0x4e}).readLength(Integer.MAX_VALUE, "n"))
        .isEqualTo(5006);
  }

  @Test
  void v0Attestation_withANonCanonicalCompactLength_isRejected() {
    // version 0, variant DstackTdx, then the quote length 0 in the two-byte form (01 00): a
    // parity-scale-codec decoder refuses it, so must we (one encoding per attestation).
    byte[] canonical = {0, 0, 0};
    byte[] nonCanonical = {0, 0, 0x01, 0x00};
    assertThatThrownBy(() -> VersionedAttestation.decode(nonCanonical))
        .isInstanceOf(AttestationException.class)
        .hasMessageContaining("non-canonical compact integer");
    assertThatThrownBy(() -> VersionedAttestation.decode(canonical))
        .isInstanceOf(AttestationException.class)
        .hasMessageNotContaining("non-canonical");
  }
}
