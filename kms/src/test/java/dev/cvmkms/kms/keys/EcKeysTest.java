package dev.cvmkms.kms.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cvmkms.kms.encoding.Pem;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Arrays;
import java.util.HexFormat;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.junit.jupiter.api.Test;

class EcKeysTest {
  private static final HexFormat HEX = HexFormat.of();

  /** dstack's upstream test root key, ring's 138-byte PKCS#8 (spec §9.2). */
  static final String UPSTREAM_ROOT_PKCS8 =
      "308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b0201010420"
          + "f57527cea4ab7ffb49af99b158cdc0e3ec06398f528349ea236b7d2afe19cec1"
          + "a14403420004"
          + "91f50522407ce29dce3ed7d31a15d80c1c42f13a23552d2b33a0ce09ee11e47b"
          + "ce95936f3e7f80d195f879e28e1b144ef37ac9ab8e36a690cbf930b775897b27";

  static final String UPSTREAM_ROOT_SPKI =
      "3059301306072a8648ce3d020106082a8648ce3d03010703420004"
          + "91f50522407ce29dce3ed7d31a15d80c1c42f13a23552d2b33a0ce09ee11e47b"
          + "ce95936f3e7f80d195f879e28e1b144ef37ac9ab8e36a690cbf930b775897b27";

  @Test
  void pkcs8_isRingTemplateByteForByte() {
    KeyPair pair =
        EcKeys.p256FromScalar(
            HEX.parseHex("f57527cea4ab7ffb49af99b158cdc0e3ec06398f528349ea236b7d2afe19cec1"));
    assertThat(HEX.formatHex(EcKeys.pkcs8Der(pair))).isEqualTo(UPSTREAM_ROOT_PKCS8);
    assertThat(HEX.formatHex(EcKeys.spkiDer(pair.getPublic()))).isEqualTo(UPSTREAM_ROOT_SPKI);
  }

  @Test
  void pkcs8Pem_roundTripsAndJdkReadsIt() throws Exception {
    KeyPair pair = EcKeys.generateP256(new SecureRandom());
    String pem = EcKeys.pkcs8Pem(pair);
    assertThat(pem).startsWith("-----BEGIN PRIVATE KEY-----\n");
    assertThat(EcKeys.pkcs8Der(pair)).hasSize(138);

    KeyPair parsed = EcKeys.parseP256Pkcs8Pem(pem);
    assertThat(parsed.getPublic().getEncoded()).isEqualTo(pair.getPublic().getEncoded());
    var jdk =
        KeyFactory.getInstance("EC")
            .generatePrivate(new PKCS8EncodedKeySpec(Pem.decode(pem, Pem.PRIVATE_KEY)));
    assertThat(((java.security.interfaces.ECPrivateKey) jdk).getS())
        .isEqualTo(((java.security.interfaces.ECPrivateKey) pair.getPrivate()).getS());
  }

  @Test
  void parse_acceptsJdkAndBouncyCastleEncodings() throws Exception {
    KeyPairGenerator jdkGen = KeyPairGenerator.getInstance("EC");
    jdkGen.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair jdkPair = jdkGen.generateKeyPair(); // JDK PKCS#8: no public key inside
    assertThat(
            EcKeys.parseP256Pkcs8Pem(Pem.encode("PRIVATE KEY", jdkPair.getPrivate().getEncoded()))
                .getPublic()
                .getEncoded())
        .isEqualTo(jdkPair.getPublic().getEncoded());

    KeyPairGenerator bcGen = KeyPairGenerator.getInstance("EC", new BouncyCastleProvider());
    bcGen.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair bcPair = bcGen.generateKeyPair(); // BC PKCS#8: [0] parameters and [1] public key
    assertThat(
            EcKeys.uncompressedPoint(
                EcKeys.parseP256Pkcs8Pem(
                        Pem.encode("PRIVATE KEY", bcPair.getPrivate().getEncoded()))
                    .getPublic()))
        .isEqualTo(EcKeys.uncompressedPoint(jdkPublic(bcPair)));
  }

  @Test
  void parse_rejectsOtherCurvesSec1AndMismatchedPublicKey() throws Exception {
    KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
    gen.initialize(new ECGenParameterSpec("secp384r1"));
    String p384 = Pem.encode("PRIVATE KEY", gen.generateKeyPair().getPrivate().getEncoded());
    assertThatThrownBy(() -> EcKeys.parseP256Pkcs8Pem(p384))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not a P-256");

    assertThatThrownBy(() -> EcKeys.parseP256Pkcs8Pem(Pem.encode("EC PRIVATE KEY", new byte[10])))
        .hasMessageContaining("expected a PEM block 'PRIVATE KEY'");

    byte[] der = HEX.parseHex(UPSTREAM_ROOT_PKCS8);
    der[der.length - 1] ^= 1; // embedded public key no longer matches the scalar
    assertThatThrownBy(() -> EcKeys.parseP256Pkcs8Pem(Pem.encode("PRIVATE KEY", der)))
        .hasMessageContaining("embedded public key does not match");

    assertThatThrownBy(
            () -> EcKeys.parseP256Pkcs8Pem(Pem.encode("PRIVATE KEY", Arrays.copyOf(der, 60))))
        .hasMessageContaining("malformed PKCS#8");
  }

  @Test
  void k256_compressedPublicKeyMatchesSpecVector() {
    byte[] scalar = new byte[32];
    Arrays.fill(scalar, (byte) 0x42);
    assertThat(HEX.formatHex(EcKeys.k256CompressedPublicKey(scalar)))
        .isEqualTo("0324653eac434488002cc06bbfb7f10fe18991e35f9fe4302dbea6d2353dc0ab1c");
  }

  @Test
  void k256_rejectsWrongLengthZeroAndOutOfRange() {
    assertThatThrownBy(() -> EcKeys.requireK256Scalar(new byte[31]))
        .hasMessageContaining("exactly 32 raw bytes, found 31");
    assertThatThrownBy(() -> EcKeys.requireK256Scalar(new byte[32]))
        .hasMessageContaining("not a valid secp256k1");
    byte[] max = new byte[32];
    Arrays.fill(max, (byte) 0xff);
    assertThatThrownBy(() -> EcKeys.requireK256Scalar(max))
        .hasMessageContaining("not a valid secp256k1");
  }

  @Test
  void generate_makesValidDistinctKeys() {
    SecureRandom random = new SecureRandom();
    byte[] a = EcKeys.generateK256Scalar(random);
    byte[] b = EcKeys.generateK256Scalar(random);
    EcKeys.requireK256Scalar(a);
    assertThat(a).isNotEqualTo(b);
    assertThat(EcKeys.generateP256(random).getPublic().getEncoded())
        .isNotEqualTo(EcKeys.generateP256(random).getPublic().getEncoded())
        .hasSize(91);
  }

  private static java.security.PublicKey jdkPublic(KeyPair pair) throws Exception {
    return KeyFactory.getInstance("EC")
        .generatePublic(new java.security.spec.X509EncodedKeySpec(pair.getPublic().getEncoded()));
  }
}
