package dev.cvmkms.kms.keys.csr;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cvmkms.kms.attestation.ratls.ScaleWriter;
import java.math.BigInteger;
import java.security.KeyPair;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.crypto.ec.CustomNamedCurves;
import org.bouncycastle.math.ec.ECPoint;
import org.junit.jupiter.api.Test;

class ScaleCsrTest {
  private static final KeyPair KEY = TestCsrs.p256();
  private static final BigInteger P256_N = CustomNamedCurves.getByName("secp256r1").getN();

  // ---- §10.8 [TESTED] upstream encodings ----

  @Test
  void upstreamVectorA_decodesFieldByField_andReEncodesIdentically() throws CsrException {
    byte[] bytes = TestCsrs.vector("csr_v2_a");

    CertSigningRequest csr = ScaleCsr.decodeV2(bytes);

    assertThat(csr.apiVersion()).isEqualTo(2);
    assertThat(csr.confirm()).isEqualTo("please sign cert:");
    assertThat(csr.pubkey()).containsExactly(1, 2, 3);
    assertThat(csr.config())
        .isEqualTo(
            new CertConfig(
                Optional.empty(),
                "test.example.com",
                List.of(),
                true,
                false,
                false,
                false,
                OptionalLong.empty(),
                OptionalLong.empty()));
    assertThat(((CsrAttestation.Versioned) csr.attestation()).bytes())
        .isEqualTo(TestCsrs.minimalV0Attestation());
    assertThat(ScaleCsr.encode(csr)).isEqualTo(bytes);
  }

  @Test
  void upstreamVectorB_hasExtQuoteAndTheOneByteQuote() throws CsrException {
    byte[] bytes = TestCsrs.vector("csr_v2_b");

    CertSigningRequest csr = ScaleCsr.decodeV2(bytes);

    assertThat(csr.config().extQuote()).isTrue();
    byte[] attestation = ((CsrAttestation.Versioned) csr.attestation()).bytes();
    assertThat(Arrays.copyOf(attestation, 4)).containsExactly(0x00, 0x00, 0x04, 0x09);
    assertThat(ScaleCsr.encode(csr)).isEqualTo(bytes);
  }

  @Test
  void encoder_buildsVectorAFromTheSpecLayout() {
    CertSigningRequest csr =
        new CertSigningRequest(
            "please sign cert:",
            new byte[] {1, 2, 3},
            new CertConfig(
                Optional.empty(),
                "test.example.com",
                List.of(),
                true,
                false,
                false,
                false,
                OptionalLong.empty(),
                OptionalLong.empty()),
            new CsrAttestation.Versioned(TestCsrs.minimalV0Attestation()));

    assertThat(ScaleCsr.encode(csr)).isEqualTo(TestCsrs.vector("csr_v2_a"));
  }

  @Test
  void upstreamVectors_haveNoValidKey_soVerificationFailsOnThePubkey() throws CsrException {
    CertSigningRequest csr = ScaleCsr.decodeV2(TestCsrs.vector("csr_v2_a"));

    assertThatThrownBy(() -> ScaleCsr.verify(csr, new byte[70]))
        .isInstanceOf(CsrException.class)
        .hasMessage("Failed to verify csr signature: Failed to parse pubkey");
  }

  // ---- signed round trips ----

  @Test
  void v2_withARealGuestAttestation_roundTripsAndVerifies() throws CsrException {
    CertSigningRequest csr = TestCsrs.v2(KEY, TestCsrs.guestAgentAttestation());
    byte[] scale = ScaleCsr.encode(csr);

    CertSigningRequest decoded = ScaleCsr.decodeAndVerify(2, scale, TestCsrs.sign(KEY, scale));

    assertThat(decoded).isEqualTo(csr);
    assertThat(decoded.config()).isEqualTo(TestCsrs.appTlsConfig());
    assertThat(decoded.pubkey()).isEqualTo(KEY.getPublic().getEncoded());
  }

  @Test
  void v1_roundTripsAndVerifies_andUpgradesToTheV2ConfigShape() throws CsrException {
    CertSigningRequest csr = TestCsrs.v1(KEY);
    byte[] scale = ScaleCsr.encode(csr);

    CertSigningRequest decoded = ScaleCsr.decodeAndVerify(1, scale, TestCsrs.sign(KEY, scale));

    assertThat(decoded).isEqualTo(csr);
    assertThat(decoded.apiVersion()).isEqualTo(1);
    assertThat(decoded.config().extAppInfo()).isFalse();
    assertThat(decoded.config().notBefore()).isEmpty();
  }

  @Test
  void v2_handBuiltFromTheSpecLayout_signedByAGuestKey_decodesAndVerifies() throws CsrException {
    // Field by field as spec §10.8 lists them, with the SCALE primitives only (not
    // ScaleCsr.encode).
    byte[] attestation = TestCsrs.guestAgentAttestation();
    byte[] scale =
        new ScaleWriter()
            .string("please sign cert:")
            .bytes(KEY.getPublic().getEncoded())
            .u8(1)
            .string("Org") // org_name: Some
            .string("guest.example")
            .compact(2)
            .string("guest.example")
            .string("127.0.0.1")
            .u8(0) // usage_server_auth
            .u8(1) // usage_client_auth
            .u8(1) // ext_quote
            .u8(1) // ext_app_info
            .u8(0) // not_before: None
            .u8(1)
            .raw(new byte[] {(byte) 0x80, 0x0b, (byte) 0xb4, 0x69, 0, 0, 0, 0}) // u64 LE 1773407104
            .raw(attestation)
            .toByteArray();

    CertSigningRequest csr = ScaleCsr.decodeAndVerify(2, scale, TestCsrs.sign(KEY, scale));

    assertThat(csr.config())
        .isEqualTo(
            new CertConfig(
                Optional.of("Org"),
                "guest.example",
                List.of("guest.example", "127.0.0.1"),
                false,
                true,
                true,
                true,
                OptionalLong.empty(),
                OptionalLong.of(1773407104L)));
    assertThat(((CsrAttestation.Versioned) csr.attestation()).bytes()).isEqualTo(attestation);
    assertThat(ScaleCsr.encode(csr)).isEqualTo(scale);
  }

  @Test
  void v1_handBuiltFromTheSpecLayout_decodesAndVerifies() throws CsrException {
    byte[] quote = HexFormat.of().parseHex("04000200810000");
    byte[] eventLog = "[]".getBytes(US_ASCII);
    byte[] scale =
        new ScaleWriter()
            .string("please sign cert:")
            .bytes(KEY.getPublic().getEncoded())
            .u8(0) // org_name: None
            .string("legacy")
            .compact(0)
            .u8(1)
            .u8(0)
            .u8(0)
            .bytes(quote)
            .bytes(eventLog)
            .toByteArray();

    CertSigningRequest csr = ScaleCsr.decodeAndVerify(1, scale, TestCsrs.sign(KEY, scale));

    assertThat(csr.apiVersion()).isEqualTo(1);
    assertThat(csr.config().subject()).isEqualTo("legacy");
    assertThat(csr.config().usageServerAuth()).isTrue();
    assertThat(csr.attestation()).isEqualTo(new CsrAttestation.LegacyTdx(quote, eventLog));
  }

  @Test
  void v1_ignoresBytesAfterTheStruct_asUpstreamDecodeDoes() throws CsrException {
    byte[] scale = ScaleCsr.encode(TestCsrs.v1(KEY));
    byte[] signature = TestCsrs.sign(KEY, scale);
    byte[] withTrailer = Arrays.copyOf(scale, scale.length + 3);

    assertThat(ScaleCsr.decodeAndVerify(1, withTrailer, signature)).isEqualTo(TestCsrs.v1(KEY));
  }

  @Test
  void wrongApiVersion_isUnsupported() {
    byte[] scale = ScaleCsr.encode(TestCsrs.v1(KEY));

    assertThatThrownBy(() -> ScaleCsr.decodeAndVerify(3, scale, new byte[0]))
        .isInstanceOf(CsrException.class)
        .hasMessage("Unsupported API version: 3");
    assertThatThrownBy(() -> ScaleCsr.decode(0, scale)).hasMessage("Unsupported API version: 0");
    assertThatThrownBy(() -> ScaleCsr.decode(-1, scale))
        .hasMessage("Unsupported API version: 4294967295");
  }

  @Test
  void v2BytesSentAsV1_orViceVersa_failCleanly() {
    byte[] v2 = ScaleCsr.encode(TestCsrs.v2(KEY, TestCsrs.minimalV0Attestation()));
    byte[] v1 = ScaleCsr.encode(TestCsrs.v1(KEY));

    assertThatThrownBy(() -> ScaleCsr.decodeAndVerify(1, v2, TestCsrs.sign(KEY, v2)))
        .isInstanceOf(CsrException.class);
    assertThatThrownBy(() -> ScaleCsr.decodeAndVerify(2, v1, TestCsrs.sign(KEY, v1)))
        .isInstanceOf(CsrException.class);
  }

  // ---- signature and confirm word ----

  @Test
  void everySingleByteChange_isRejected() {
    byte[] scale = ScaleCsr.encode(TestCsrs.v2(KEY, TestCsrs.minimalV0Attestation()));
    byte[] signature = TestCsrs.sign(KEY, scale);

    for (int i = 0; i < scale.length; i++) {
      byte[] tampered = scale.clone();
      tampered[i] ^= 0x01;
      assertThatThrownBy(() -> ScaleCsr.decodeAndVerify(2, tampered, signature))
          .as("flipped byte %d", i)
          .isInstanceOf(CsrException.class)
          .message()
          .matches("Failed to (parse csr|verify csr signature): .*");
    }
  }

  @Test
  void tamperedAttestation_isASignatureFailure() {
    byte[] scale = ScaleCsr.encode(TestCsrs.v2(KEY, TestCsrs.guestAgentAttestation()));
    byte[] signature = TestCsrs.sign(KEY, scale);
    scale[scale.length - 100] ^= 0x40;

    assertThatThrownBy(() -> ScaleCsr.decodeAndVerify(2, scale, signature))
        .isInstanceOf(CsrException.class)
        .hasMessage("Failed to verify csr signature: Invalid signature");
  }

  @Test
  void signatureByAnotherKey_isInvalid() {
    byte[] scale = ScaleCsr.encode(TestCsrs.v2(KEY, TestCsrs.minimalV0Attestation()));

    assertThatThrownBy(
            () -> ScaleCsr.decodeAndVerify(2, scale, TestCsrs.sign(TestCsrs.p256(), scale)))
        .hasMessage("Failed to verify csr signature: Invalid signature");
  }

  @Test
  void wrongConfirmWord_isCheckedAfterTheSignature() {
    CertSigningRequest csr =
        new CertSigningRequest(
            "please sign this:",
            KEY.getPublic().getEncoded(),
            TestCsrs.appTlsConfig(),
            new CsrAttestation.Versioned(TestCsrs.minimalV0Attestation()));
    byte[] scale = ScaleCsr.encode(csr);

    assertThatThrownBy(() -> ScaleCsr.decodeAndVerify(2, scale, TestCsrs.sign(KEY, scale)))
        .hasMessage("Failed to verify csr signature: Invalid confirm word");
    assertThatThrownBy(() -> ScaleCsr.decodeAndVerify(2, scale, new byte[8]))
        .hasMessage("Failed to verify csr signature: Invalid signature");
  }

  @Test
  void highS_isAccepted_likeRing_butNonStrictDerIsNot() throws CsrException {
    byte[] scale = ScaleCsr.encode(TestCsrs.v2(KEY, TestCsrs.minimalV0Attestation()));
    ASN1Sequence seq = ASN1Sequence.getInstance(TestCsrs.sign(KEY, scale));
    BigInteger r = ASN1Integer.getInstance(seq.getObjectAt(0)).getValue();
    BigInteger s = ASN1Integer.getInstance(seq.getObjectAt(1)).getValue();

    byte[] flippedS = der(r, P256_N.subtract(s));
    assertThat(ScaleCsr.decodeAndVerify(2, scale, flippedS)).isNotNull();

    byte[] good = der(r, s);
    byte[] trailing = Arrays.copyOf(good, good.length + 1);
    byte[] longFormLength = new byte[good.length + 1];
    longFormLength[0] = 0x30;
    longFormLength[1] = (byte) 0x81;
    System.arraycopy(good, 1, longFormLength, 2, good.length - 1);
    byte[] paddedR = derRaw(prependZero(r.toByteArray()), s.toByteArray());
    byte[] rPlusN = der(r.add(P256_N), s);
    for (byte[] bad : List.of(trailing, longFormLength, paddedR, rPlusN, new byte[0])) {
      assertThatThrownBy(() -> ScaleCsr.decodeAndVerify(2, scale, bad))
          .hasMessage("Failed to verify csr signature: Invalid signature");
    }
  }

  @Test
  void nonEcKey_isUnsupported() {
    KeyPair rsa = rsaKeyPair();
    CertSigningRequest csr =
        new CertSigningRequest(
            ScaleCsr.CONFIRM,
            rsa.getPublic().getEncoded(),
            TestCsrs.appTlsConfig(),
            new CsrAttestation.Versioned(TestCsrs.minimalV0Attestation()));

    assertThatThrownBy(() -> ScaleCsr.verify(csr, new byte[8]))
        .hasMessage("Failed to verify csr signature: Unsupported algorithm");
  }

  @Test
  void p384Key_orCompressedP256Point_failsAsRingDoes() {
    KeyPair p384 = TestCsrs.generate("secp384r1");
    CertSigningRequest p384Csr = TestCsrs.v2(p384, TestCsrs.minimalV0Attestation());
    byte[] p384Scale = ScaleCsr.encode(p384Csr);
    assertThatThrownBy(() -> ScaleCsr.verify(p384Csr, TestCsrs.sign(p384, p384Scale)))
        .hasMessage("Failed to verify csr signature: Invalid signature");

    CertSigningRequest compressed =
        new CertSigningRequest(
            ScaleCsr.CONFIRM,
            compressedSpki(KEY),
            TestCsrs.appTlsConfig(),
            new CsrAttestation.Versioned(TestCsrs.minimalV0Attestation()));
    byte[] scale = ScaleCsr.encode(compressed);
    assertThatThrownBy(() -> ScaleCsr.verify(compressed, TestCsrs.sign(KEY, scale)))
        .hasMessage("Failed to verify csr signature: Invalid signature");
  }

  @Test
  void spkiWithTrailingBytes_isNotAKey() {
    byte[] spki = Arrays.copyOf(KEY.getPublic().getEncoded(), 92);
    CertSigningRequest csr =
        new CertSigningRequest(
            ScaleCsr.CONFIRM,
            spki,
            TestCsrs.appTlsConfig(),
            new CsrAttestation.Versioned(TestCsrs.minimalV0Attestation()));

    assertThatThrownBy(() -> ScaleCsr.verify(csr, TestCsrs.sign(KEY, ScaleCsr.encode(csr))))
        .hasMessage("Failed to verify csr signature: Failed to parse pubkey");
  }

  // ---- parse errors and bounds ----

  @Test
  void everyTruncation_failsCleanly() {
    byte[] scale = ScaleCsr.encode(TestCsrs.v2(KEY, TestCsrs.minimalV0Attestation()));
    byte[] signature = TestCsrs.sign(KEY, scale);
    byte[] v1 = ScaleCsr.encode(TestCsrs.v1(KEY));

    for (int length = 0; length < scale.length; length++) {
      byte[] cut = Arrays.copyOf(scale, length);
      assertThatThrownBy(() -> ScaleCsr.decodeAndVerify(2, cut, signature))
          .as("V2 cut at %d", length)
          .isInstanceOf(CsrException.class);
    }
    for (int length = 0; length < v1.length; length++) {
      byte[] cut = Arrays.copyOf(v1, length);
      assertThatThrownBy(() -> ScaleCsr.decode(1, cut))
          .as("V1 cut at %d", length)
          .isInstanceOf(CsrException.class)
          .message()
          .startsWith("Failed to parse csr: ");
    }
  }

  @Test
  void hugeClaimedLengths_areParseErrors() {
    byte[] hugePubkey =
        new ScaleWriter()
            .string(ScaleCsr.CONFIRM)
            .compact((1L << 32) - 1)
            .raw(new byte[4])
            .toByteArray();
    byte[] subjectPastEnd =
        new ScaleWriter()
            .string(ScaleCsr.CONFIRM)
            .bytes(new byte[] {1})
            .u8(0)
            .compact(5000)
            .raw("short".getBytes(US_ASCII))
            .toByteArray();
    byte[] tooManySans =
        new ScaleWriter()
            .string(ScaleCsr.CONFIRM)
            .bytes(new byte[] {1})
            .u8(0)
            .string("s")
            .compact(ScaleCsr.MAX_SANS + 1)
            .raw(new byte[ScaleCsr.MAX_SANS + 10])
            .toByteArray();

    assertThatThrownBy(() -> ScaleCsr.decodeV2(hugePubkey))
        .hasMessageStartingWith("Failed to parse csr: pubkey: length 4294967295 exceeds the limit");
    assertThatThrownBy(() -> ScaleCsr.decodeV2(subjectPastEnd))
        .hasMessageStartingWith(
            "Failed to parse csr: subject: length 5000 exceeds the remaining 5");
    assertThatThrownBy(() -> ScaleCsr.decodeV2(tooManySans))
        .hasMessageStartingWith(
            "Failed to parse csr: subject_alt_names: length 1025 exceeds the limit");
  }

  @Test
  void attestationFraming_isChecked() {
    CertConfig config = TestCsrs.appTlsConfig();
    byte[] head =
        ScaleCsr.encode(
            new CertSigningRequest(
                ScaleCsr.CONFIRM,
                KEY.getPublic().getEncoded(),
                config,
                new CsrAttestation.Versioned(new byte[] {0})));
    byte[] empty = Arrays.copyOf(head, head.length - 1);
    byte[] unknown = head.clone();
    unknown[unknown.length - 1] = 0x01;
    byte[] msgpackMap = head.clone();
    msgpackMap[msgpackMap.length - 1] = (byte) 0x83;

    assertThatThrownBy(() -> ScaleCsr.decodeV2(empty))
        .hasMessage("Failed to parse csr: Empty attestation bytes");
    assertThatThrownBy(() -> ScaleCsr.decodeV2(unknown))
        .hasMessage("Failed to parse csr: Unknown attestation wire format");
    assertThatCode(() -> ScaleCsr.decodeV2(msgpackMap)).doesNotThrowAnyException();
  }

  @Test
  void oversizedAttestationOrCsr_isRejected() {
    byte[] big = new byte[ScaleCsr.MAX_ATTESTATION_BYTES + 1];
    byte[] scale = ScaleCsr.encode(TestCsrs.v2(KEY, big));

    assertThatThrownBy(() -> ScaleCsr.decodeV2(scale))
        .hasMessage("Failed to parse csr: attestation bytes exceed maximum allowed size");
    assertThatThrownBy(() -> ScaleCsr.decodeV1(new byte[ScaleCsr.MAX_CSR_BYTES + 1]))
        .hasMessageStartingWith("Failed to parse csr: csr is");
  }

  @Test
  void validityBeyondSignedLongRange_isAParseError() {
    byte[] scale =
        new ScaleWriter()
            .string(ScaleCsr.CONFIRM)
            .bytes(new byte[] {1})
            .u8(0)
            .string("s")
            .compact(0)
            .bool(true)
            .bool(false)
            .bool(false)
            .bool(false)
            .u8(1)
            .u64(-1L)
            .u8(0)
            .raw(TestCsrs.minimalV0Attestation())
            .toByteArray();

    assertThatThrownBy(() -> ScaleCsr.decodeV2(scale))
        .hasMessageStartingWith("Failed to parse csr: not_before: out of range");
  }

  @Test
  void v1Request_cannotCarryV2OnlyFields() {
    assertThatThrownBy(
            () ->
                new CertSigningRequest(
                    ScaleCsr.CONFIRM,
                    new byte[0],
                    TestCsrs.appTlsConfig(),
                    new CsrAttestation.LegacyTdx(new byte[0], new byte[0])))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void toString_isShortAndHasNoKeyBytes() {
    CertSigningRequest csr = TestCsrs.v2(KEY, TestCsrs.guestAgentAttestation());

    assertThat(csr.toString())
        .isEqualTo(
            "CertSigningRequest[v2, subject=app.example.com, attestation=Versioned[9504 bytes]]");
  }

  // ---- helpers ----

  private static byte[] der(BigInteger r, BigInteger s) {
    try {
      return new DERSequence(new ASN1Integer[] {new ASN1Integer(r), new ASN1Integer(s)})
          .getEncoded();
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] derRaw(byte[] r, byte[] s) {
    byte[] out = new byte[6 + r.length + s.length];
    out[0] = 0x30;
    out[1] = (byte) (4 + r.length + s.length);
    out[2] = 0x02;
    out[3] = (byte) r.length;
    System.arraycopy(r, 0, out, 4, r.length);
    out[4 + r.length] = 0x02;
    out[5 + r.length] = (byte) s.length;
    System.arraycopy(s, 0, out, 6 + r.length, s.length);
    return out;
  }

  private static byte[] prependZero(byte[] bytes) {
    byte[] out = new byte[bytes.length + 1];
    System.arraycopy(bytes, 0, out, 1, bytes.length);
    return out;
  }

  private static byte[] compressedSpki(KeyPair key) {
    SubjectPublicKeyInfo info = SubjectPublicKeyInfo.getInstance(key.getPublic().getEncoded());
    ECPoint point =
        CustomNamedCurves.getByName("secp256r1")
            .getCurve()
            .decodePoint(info.getPublicKeyData().getBytes());
    try {
      return new SubjectPublicKeyInfo(
              AlgorithmIdentifier.getInstance(info.getAlgorithm()), point.getEncoded(true))
          .getEncoded();
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static KeyPair rsaKeyPair() {
    try {
      java.security.KeyPairGenerator generator = java.security.KeyPairGenerator.getInstance("RSA");
      generator.initialize(1024);
      return generator.generateKeyPair();
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
