package dev.cvmkms.kms.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cvmkms.kms.keys.derivation.Keccak256;
import dev.cvmkms.kms.keys.derivation.Secp256k1;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Locale;
import org.junit.jupiter.api.Test;

class ResponseSignatureTest {
  private static final HexFormat HEX = HexFormat.of();
  private static final byte[] KEY = HEX.parseHex("01".repeat(32));
  private static final byte[] PUB = Secp256k1.publicKeyCompressed(KEY);
  private static final byte[] BODY = "{\"ca_cert\":\"x\"}".getBytes(StandardCharsets.UTF_8);

  @Test
  void digest_isKeccakOfTheDocumentedAsciiString() throws Exception {
    byte[] bodyHash = MessageDigest.getInstance("SHA-256").digest(BODY);
    String message = "dstack-kms-response-v1:1767225600:GetMeta:" + HEX.formatHex(bodyHash);
    assertThat(ResponseSignature.digest(1767225600L, "GetMeta", bodyHash))
        .isEqualTo(Keccak256.digest(message.getBytes(StandardCharsets.US_ASCII)));
  }

  @Test
  void signature_recoversTheSigner_forTheSignedTriple() {
    ResponseSignature s = ResponseSignature.sign(KEY, 1767225600L, "GetMeta", BODY);
    assertThat(s.signature()).hasSize(65);
    assertThat(s.signature()[64]).isIn((byte) 0, (byte) 1);
    assertThat(s.signatureHeader()).matches("[0-9a-f]{130}");
    assertThat(s.timestampHeader()).isEqualTo("1767225600");
    assertThat(s.recover("GetMeta", BODY)).hasValueSatisfying(k -> assertThat(k).isEqualTo(PUB));
    assertThat(s.verifies("GetMeta", BODY, PUB)).isTrue();
  }

  @Test
  void changedBodyMethodOrTimestamp_doNotRecoverTheSigner() {
    ResponseSignature s = ResponseSignature.sign(KEY, 1767225600L, "GetMeta", BODY);
    byte[] changed = BODY.clone();
    changed[changed.length - 2] ^= 1;
    assertThat(s.verifies("GetMeta", changed, PUB)).isFalse();
    assertThat(s.verifies("GetTempCaCert", BODY, PUB)).isFalse();
    ResponseSignature otherTime = new ResponseSignature(1767225601L, s.signature());
    assertThat(otherTime.verifies("GetMeta", BODY, PUB)).isFalse();
    // Same triple, another key: recovers that key, not ours.
    byte[] other = HEX.parseHex("02".repeat(32));
    assertThat(
            ResponseSignature.sign(other, 1767225600L, "GetMeta", BODY)
                .verifies("GetMeta", BODY, PUB))
        .isFalse();
  }

  @Test
  void headersRoundTrip_andBadHeadersAreRefusedByName() {
    ResponseSignature s = ResponseSignature.sign(KEY, 42L, "GetMeta", BODY);
    assertThat(ResponseSignature.parse(s.timestampHeader(), s.signatureHeader())).isEqualTo(s);
    assertThatThrownBy(() -> ResponseSignature.parse("-1", s.signatureHeader()))
        .hasMessageContaining("X-Kms-Timestamp");
    assertThatThrownBy(
            () -> ResponseSignature.parse("42", s.signatureHeader().toUpperCase(Locale.ROOT)))
        .hasMessageContaining("X-Kms-Signature")
        .hasMessageContaining("lowercase hex");
    assertThatThrownBy(() -> ResponseSignature.parse("42", "ab"))
        .hasMessageContaining("X-Kms-Signature");
    assertThatThrownBy(() -> ResponseSignature.digest(1, "KMS:GetMeta", new byte[32]))
        .hasMessageContaining("bare");
  }

  @Test
  void signingIsDeterministic() {
    assertThat(ResponseSignature.sign(KEY, 7L, "GetMeta", BODY))
        .isEqualTo(ResponseSignature.sign(KEY, 7L, "GetMeta", BODY));
  }
}
