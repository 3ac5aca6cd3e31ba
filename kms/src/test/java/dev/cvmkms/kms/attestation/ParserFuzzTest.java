package dev.cvmkms.kms.attestation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cvmkms.kms.attestation.dcap.Collateral;
import dev.cvmkms.kms.attestation.dcap.DcapVerifier;
import dev.cvmkms.kms.attestation.dcap.QeIdentity;
import dev.cvmkms.kms.attestation.dcap.TcbInfo;
import dev.cvmkms.kms.attestation.dcap.TdxQuote;
import dev.cvmkms.kms.attestation.dcap.TrustAnchor;
import dev.cvmkms.kms.attestation.dcap.VerifiedQuote;
import dev.cvmkms.kms.attestation.eventlog.EventLogs;
import dev.cvmkms.kms.attestation.mock.MockTdx;
import dev.cvmkms.kms.attestation.ratls.MsgPack;
import dev.cvmkms.kms.attestation.ratls.RaTlsExtensions;
import dev.cvmkms.kms.attestation.ratls.VersionedAttestation;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Property: parsers and the verifier, fed mutated quotes, attestations, extensions, event logs and
 * collateral, either succeed or throw {@link AttestationException}; never anything else. Seeded,
 * bounded in count and time.
 */
class ParserFuzzTest {
  private static final long SEED = 0x5eed_7d_c0de_11L;
  private static final int ROUNDS = 1500;

  /** One random mutation: flip bits, overwrite, truncate, insert, or splice a length field. */
  static byte[] mutate(byte[] in, Random r) {
    byte[] b = in.clone();
    switch (r.nextInt(6)) {
      case 0 -> {
        int n = 1 + r.nextInt(4);
        for (int i = 0; i < n; i++) {
          b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
        }
      }
      case 1 -> b[r.nextInt(b.length)] = (byte) r.nextInt(256);
      case 2 -> b = Arrays.copyOf(b, r.nextInt(b.length));
      case 3 -> {
        int at = r.nextInt(b.length);
        byte[] extra = new byte[1 + r.nextInt(16)];
        r.nextBytes(extra);
        byte[] o = new byte[b.length + extra.length];
        System.arraycopy(b, 0, o, 0, at);
        System.arraycopy(extra, 0, o, at, extra.length);
        System.arraycopy(b, at, o, at + extra.length, b.length - at);
        b = o;
      }
      case 4 -> {
        // write an extreme 32-bit value somewhere (length fields are what parsers trust)
        int at = r.nextInt(Math.max(1, b.length - 4));
        int v = r.nextBoolean() ? -1 : r.nextInt();
        for (int i = 0; i < 4 && at + i < b.length; i++) {
          b[at + i] = (byte) (v >>> (8 * i));
        }
      }
      default -> {
        int from = r.nextInt(b.length);
        int len = Math.min(b.length - from, 1 + r.nextInt(64));
        Arrays.fill(b, from, from + len, (byte) (r.nextBoolean() ? 0 : 0xff));
      }
    }
    return b;
  }

  private static void cleanly(String what, Consumer<Random> body) {
    Random r = new Random(SEED ^ what.hashCode());
    long deadline = System.nanoTime() + 20_000_000_000L;
    for (int i = 0; i < ROUNDS && System.nanoTime() < deadline; i++) {
      try {
        body.accept(r);
      } catch (AttestationException expected) {
        // a clean rejection
      } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
        throw new AssertionError(what + " round " + i + " leaked " + e, e);
      }
    }
  }

  @Test
  void mutatedRealQuotesAreParsedOrRejectedAndNeverAcceptedChanged() {
    byte[] q = Vectors.bytes("dcap-qvl/tdx_quote.bin");
    Collateral c = Vectors.collateral("dcap-qvl/tdx_quote_collateral.json");
    DcapVerifier v = new DcapVerifier(TrustAnchor.intelSgxRoot());
    Instant at = Vectors.windowMiddle(0);
    TdxQuote original = TdxQuote.parse(q);
    cleanly(
        "real quote",
        r -> {
          byte[] m = mutate(q, r);
          TdxQuote parsed = TdxQuote.parse(m);
          if (r.nextInt(4) == 0) {
            VerifiedQuote ok = v.verify(parsed, c, at);
            assertThat(ok.quote().signedRegion()).isEqualTo(original.signedRegion());
          }
        });
  }

  @Test
  void mutatedMockQuotesUnderTheMockRoot() {
    MockTdx mock = MockTdx.create(Instant.parse("2026-11-21T06:00:00Z"));
    byte[] q = mock.quote(new byte[64]);
    DcapVerifier v = mock.dcapVerifier();
    TdxQuote original = TdxQuote.parse(q);
    cleanly(
        "mock quote",
        r -> {
          byte[] m = mutate(q, r);
          if (r.nextInt(3) == 0) {
            VerifiedQuote ok =
                v.verify(m, mock.collateral(), Instant.parse("2026-11-21T06:00:00Z"));
            assertThat(ok.quote().signedRegion()).isEqualTo(original.signedRegion());
          } else {
            TdxQuote.parse(m);
          }
        });
  }

  @Test
  void mutatedAttestationsV0AndV1() {
    byte[] v0 = Vectors.bytes("dstack/guest-agent-attestation-v0.bin");
    MockTdx mock = new MockTdx(MockTdx.defaultSeed(), Instant.parse("2026-11-21T06:00:00Z"), 2);
    byte[] v1 = mock.versionedAttestation(new byte[64]);
    assertThat(v1[0] & 0xff).isEqualTo(0x83);
    cleanly("v0", r -> VersionedAttestation.decode(mutate(v0, r)));
    cleanly("v1", r -> VersionedAttestation.decode(mutate(v1, r)));
    cleanly(
        "msgpack random",
        r -> {
          byte[] b = new byte[r.nextInt(64)];
          r.nextBytes(b);
          MsgPack.decode(b);
        });
  }

  @Test
  void mutatedExtensionValues() throws Exception {
    byte[] content = MockTdx.create(Instant.now()).versionedAttestation(new byte[64]);
    byte[] extnValue =
        new org.bouncycastle.asn1.DEROctetString(
                new org.bouncycastle.asn1.DEROctetString(content).getEncoded())
            .getEncoded();
    assertThat(RaTlsExtensions.unwrap(extnValue, "x")).isEqualTo(content);
    cleanly(
        "extension",
        r -> {
          byte[] inner = RaTlsExtensions.unwrap(mutate(extnValue, r), RaTlsExtensions.ATTESTATION);
          if (inner != null) {
            VersionedAttestation.decode(inner);
          }
        });
  }

  @Test
  void mutatedJsonDocuments() {
    String log = Vectors.json("dstack/verifier-quote-report.json").get("event_log").asText();
    String coll = Vectors.text("dcap-qvl/tdx_quote_collateral.json");
    Collateral c = Collateral.fromJson(coll);
    byte[] logB = log.getBytes(StandardCharsets.UTF_8);
    byte[] tcbB = c.tcbInfoJson().getBytes(StandardCharsets.UTF_8);
    byte[] qeB = c.qeIdentityJson().getBytes(StandardCharsets.UTF_8);
    byte[] collB = coll.getBytes(StandardCharsets.UTF_8);
    cleanly(
        "event log", r -> EventLogs.parseJson(new String(mutate(logB, r), StandardCharsets.UTF_8)));
    cleanly("tcb info", r -> TcbInfo.parse(new String(mutate(tcbB, r), StandardCharsets.UTF_8)));
    cleanly(
        "qe identity", r -> QeIdentity.parse(new String(mutate(qeB, r), StandardCharsets.UTF_8)));
    cleanly(
        "collateral",
        r -> {
          Collateral m = Collateral.fromJson(new String(mutate(collB, r), StandardCharsets.UTF_8));
          new DcapVerifier(TrustAnchor.intelSgxRoot())
              .verify(Vectors.bytes("dcap-qvl/tdx_quote.bin"), m, Vectors.windowMiddle(0));
        });
  }
}
