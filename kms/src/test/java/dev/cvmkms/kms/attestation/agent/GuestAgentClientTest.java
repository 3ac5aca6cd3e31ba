package dev.cvmkms.kms.attestation.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cvmkms.kms.attestation.AttestationException;
import dev.cvmkms.kms.attestation.AttestationException.Reason;
import dev.cvmkms.kms.attestation.dcap.TdxQuote;
import dev.cvmkms.kms.attestation.eventlog.EventLogs;
import dev.cvmkms.kms.attestation.mock.MockTdx;
import dev.cvmkms.kms.attestation.ratls.VersionedAttestation;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GuestAgentClientTest {
  static final Instant NOW = Instant.parse("2026-11-21T06:00:00Z");
  static final MockTdx MOCK = MockTdx.create(NOW);

  private static byte[] rd(int v) {
    byte[] b = new byte[64];
    b[5] = (byte) v;
    return b;
  }

  @Test
  void getQuoteAndAttestOverTheUnixSocket(@TempDir Path dir) throws Exception {
    Path sock = dir.resolve("dstack.sock");
    try (FakeGuestAgent agent = new FakeGuestAgent(sock, MOCK)) {
      GuestAgentClient c =
          GuestAgentClient.fromEnvironment(
              Map.of(GuestAgentClient.ENV, "unix:" + sock),
              HttpClient.newHttpClient(),
              Duration.ofSeconds(5));
      var q = c.getQuote(rd(3));
      assertThat(TdxQuote.parse(q.quote()).body().reportData()).isEqualTo(rd(3));
      assertThat(EventLogs.runtimeEvents(EventLogs.parseJson(q.eventLog()))).isNotEmpty();
      assertThat(q.vmConfig()).contains("os_image_hash");

      VersionedAttestation a = VersionedAttestation.decode(c.versionedAttestation(rd(4)));
      assertThat(a.reportData()).isEqualTo(rd(4));
      assertThat(MOCK.verifier().verify(a, rd(4), NOW).quote().status().intelName())
          .isEqualTo("UpToDate");

      agent.mode = FakeGuestAgent.Mode.CHUNKED;
      assertThat(TdxQuote.parse(c.quote(rd(5))).body().reportData()).isEqualTo(rd(5));
    }
  }

  @Test
  void errorsAndSilenceAreBoundedAndClear(@TempDir Path dir) throws Exception {
    Path sock = dir.resolve("a.sock");
    try (FakeGuestAgent agent = new FakeGuestAgent(sock, MOCK)) {
      GuestAgentClient c = GuestAgentClient.unix(sock, Duration.ofMillis(400));
      agent.mode = FakeGuestAgent.Mode.ERROR;
      assertThatThrownBy(() -> c.quote(rd(1)))
          .isInstanceOfSatisfying(
              AttestationException.class,
              e -> {
                assertThat(e.reason()).isEqualTo(Reason.QUOTE_UNAVAILABLE);
                assertThat(e.getMessage()).contains("HTTP 500");
              });
      agent.mode = FakeGuestAgent.Mode.SILENT;
      long t0 = System.nanoTime();
      assertThatThrownBy(() -> c.quote(rd(1)))
          .isInstanceOfSatisfying(
              AttestationException.class, e -> assertThat(e.getMessage()).contains("no answer"));
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
    }
    assertThatThrownBy(
            () ->
                GuestAgentClient.unix(dir.resolve("missing.sock"), Duration.ofSeconds(1))
                    .quote(rd(1)))
        .isInstanceOf(AttestationException.class);
  }

  @Test
  void noAgentConfigured() {
    // default sockets do not exist on a build machine
    assertThatThrownBy(
            () ->
                GuestAgentClient.fromEnvironment(
                    Map.of(), HttpClient.newHttpClient(), Duration.ofSeconds(1)))
        .isInstanceOfSatisfying(
            AttestationException.class,
            e -> assertThat(e.getMessage()).contains(GuestAgentClient.ENV));
  }

  @Test
  void httpParserRejectsGarbage() throws Exception {
    assertThat(
            UnixHttp.tryParse(
                "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab"
                    .getBytes(StandardCharsets.US_ASCII)))
        .isNull();
    assertThatThrownBy(
            () -> UnixHttp.tryParse("SSH-2.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII)))
        .isInstanceOf(java.io.IOException.class);
    assertThatThrownBy(
            () ->
                UnixHttp.tryParse(
                    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
                        .getBytes(StandardCharsets.US_ASCII)))
        .isInstanceOf(java.io.IOException.class);
  }

  @Test
  void chunkExtensionsAreIgnoredAndAMissingSizeIsRejected() throws Exception {
    UnixHttp.Response r =
        UnixHttp.tryParse(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;name=value\r\nabc\r\n0\r\n\r\n"
                .getBytes(StandardCharsets.US_ASCII));
    assertThat(r).isNotNull();
    assertThat(r.status()).isEqualTo(200);
    assertThat(new String(r.body(), StandardCharsets.US_ASCII)).isEqualTo("abc");
    assertThatThrownBy(
            () ->
                UnixHttp.tryParse(
                    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n;x\r\n"
                        .getBytes(StandardCharsets.US_ASCII)))
        .isInstanceOf(java.io.IOException.class)
        .hasMessage("bad chunk size");
  }
}
