package dev.cvmkms.kms.keys.derivation;

import static dev.cvmkms.kms.keys.derivation.Vectors.hex;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.Signature;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.NamedParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.XECPrivateKeySpec;
import java.security.spec.XECPublicKeySpec;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import javax.crypto.KeyAgreement;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.util.BigIntegers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class KeyDerivationTest {
  private final ECPrivateKey rootCa = Vectors.rootCa();
  private final byte[] appId = hex("app_id");
  private final byte[] instanceId = hex("instance_id");
  private final byte[] rootK256 = hex("root_k256");

  // ---- §9.2 [TESTED] upstream test_derive_dh_secret_stable_output ----

  @Test
  void deriveDhSecret_upstreamStableOutputVector() {
    List<byte[]> context = List.of(ascii("context one"), ascii("context two"));

    assertThat(KeyDerivation.deriveDhSecret(rootCa, context))
        .isEqualTo(hex("dh_secret_context_one_two"));
    assertThat(KeyDerivation.deriveP256Scalar(rootCa, context))
        .isEqualTo(hex("dh_scalar_context_one_two"));
  }

  @Test
  void deriveDhSecret_isSha256OfThe138ByteCanonicalPkcs8() throws Exception {
    List<byte[]> context = List.of(ascii("context one"), ascii("context two"));
    byte[] scalar = hex("dh_scalar_context_one_two");
    byte[] pkcs8 = P256Keys.canonicalPkcs8(scalar);

    assertThat(pkcs8).hasSize(138);
    assertThat(MessageDigest.getInstance("SHA-256").digest(pkcs8))
        .isEqualTo(KeyDerivation.deriveDhSecret(rootCa, context));
  }

  @Test
  void rootScalar_isTheOneInTheVectors() {
    assertThat(P256Keys.scalar(rootCa)).isEqualTo(hex("root_ca_scalar"));
  }

  // ---- §9.5 [COMPUTED] worked vectors ----

  @Test
  void diskCryptKey_vector() {
    assertThat(KeyDerivation.diskCryptKey(rootCa, appId, instanceId))
        .isEqualTo(hex("disk_crypt_key"));
  }

  @Test
  void envCryptKey_vector_isReturnedUnclamped() {
    byte[] envKey = KeyDerivation.envCryptKey(rootCa, appId);

    assertThat(envKey).isEqualTo(hex("env_crypt_key"));
    // Clamping would clear the low 3 bits of byte 0 and set bit 6 of byte 31; this vector has
    // both "wrong", so returning it unchanged shows nothing clamps it on the way out.
    assertThat(envKey[0] & 0x07).isNotZero();
    assertThat(envKey[31] & 0x40).isZero();
  }

  @Test
  void envEncryptPublicKey_vector() {
    assertThat(KeyDerivation.envEncryptPublicKey(rootCa, appId)).isEqualTo(hex("env_public_key"));
  }

  @Test
  void appCaKeyPair_vector() {
    KeyPair appCa = KeyDerivation.appCaKeyPair(rootCa, appId);

    assertThat(P256Keys.scalar((ECPrivateKey) appCa.getPrivate())).isEqualTo(hex("app_ca_scalar"));
    assertThat(appCa.getPublic().getEncoded()).isEqualTo(hex("app_ca_spki"));
  }

  @Test
  void appK256Key_vector() {
    byte[] key = KeyDerivation.appK256Key(rootK256, appId);

    assertThat(key).isEqualTo(hex("app_k256_key"));
    assertThat(Secp256k1.publicKeyCompressed(key)).isEqualTo(hex("app_k256_pub"));
  }

  @Test
  void appKeys_matchVectorsAndSignatureRecoversRootK256() {
    AppKeys keys = KeyDerivation.appKeys(rootCa, rootK256, appId, instanceId);

    assertThat(keys.diskCryptKey()).isEqualTo(hex("disk_crypt_key"));
    assertThat(keys.envCryptKey()).isEqualTo(hex("env_crypt_key"));
    assertThat(keys.k256Key()).isEqualTo(hex("app_k256_key"));
    assertThat(keys.k256Signature()).hasSize(65);
    assertThat(keys.k256Signature()[64]).isIn((byte) 0, (byte) 1);
    assertThat(Secp256k1.recoverPublicKey(hex("kms_issued_digest"), keys.k256Signature()))
        .hasValueSatisfying(pub -> assertThat(pub).isEqualTo(hex("root_k256_pub")));
  }

  @Test
  void appKeys_toStringHidesKeyBytes() {
    AppKeys keys = KeyDerivation.appKeys(rootCa, rootK256, appId, instanceId);

    assertThat(keys.toString()).isEqualTo("AppKeys[REDACTED]");
  }

  @Test
  void appKeys_areDefensivelyCopied() {
    AppKeys keys = KeyDerivation.appKeys(rootCa, rootK256, appId, instanceId);
    keys.diskCryptKey()[0] ^= 1;

    assertThat(keys.diskCryptKey()).isEqualTo(hex("disk_crypt_key"));
  }

  @Test
  void envEncryptPubKey_signaturesRecoverRootK256OverTheSpecDigests() {
    long timestamp = Long.parseLong(Vectors.string("env_sig_timestamp"));
    EnvEncryptPubKey answer = KeyDerivation.envEncryptPubKey(rootCa, rootK256, appId, timestamp);

    assertThat(answer.publicKey()).isEqualTo(hex("env_public_key"));
    assertThat(answer.timestamp()).isEqualTo(timestamp);
    assertThat(Secp256k1.recoverPublicKey(hex("env_sig_digest_legacy"), answer.signature()))
        .hasValueSatisfying(pub -> assertThat(pub).isEqualTo(hex("root_k256_pub")));
    assertThat(Secp256k1.recoverPublicKey(hex("env_sig_digest_v1"), answer.signatureV1()))
        .hasValueSatisfying(pub -> assertThat(pub).isEqualTo(hex("root_k256_pub")));
  }

  // ---- properties ----

  @Test
  void derivations_areDeterministic() {
    assertThat(KeyDerivation.appKeys(rootCa, rootK256, appId, instanceId).k256Signature())
        .isEqualTo(KeyDerivation.appKeys(rootCa, rootK256, appId, instanceId).k256Signature());
    assertThat(KeyDerivation.appCaKeyPair(rootCa, appId).getPublic())
        .isEqualTo(KeyDerivation.appCaKeyPair(rootCa, appId).getPublic());
    assertThat(KeyDerivation.envEncryptPubKey(rootCa, rootK256, appId, 5))
        .isEqualTo(KeyDerivation.envEncryptPubKey(rootCa, rootK256, appId, 5));
  }

  @Test
  void differentAppsAndInstances_getDifferentKeys() {
    Random random = new Random(20261121L);
    Set<String> diskKeys = new HashSet<>();
    Set<String> envKeys = new HashSet<>();
    Set<String> k256Keys = new HashSet<>();
    for (int i = 0; i < 16; i++) {
      byte[] app = randomBytes(random, 20);
      envKeys.add(hexOf(KeyDerivation.envCryptKey(rootCa, app)));
      k256Keys.add(hexOf(KeyDerivation.appK256Key(rootK256, app)));
      for (int j = 0; j < 4; j++) {
        diskKeys.add(hexOf(KeyDerivation.diskCryptKey(rootCa, app, randomBytes(random, 20))));
      }
    }
    assertThat(diskKeys).hasSize(64);
    assertThat(envKeys).hasSize(16);
    assertThat(k256Keys).hasSize(16);
  }

  @Test
  void envKey_doesNotDependOnTheInstance_butTheDiskKeyDoes() {
    byte[] otherInstance = hex("app_id");

    assertThat(KeyDerivation.diskCryptKey(rootCa, appId, otherInstance))
        .isNotEqualTo(KeyDerivation.diskCryptKey(rootCa, appId, instanceId));
    assertThat(KeyDerivation.appKeys(rootCa, rootK256, appId, otherInstance).envCryptKey())
        .isEqualTo(hex("env_crypt_key"));
  }

  @Test
  void emptyInstanceId_isAllowed_andDiffersFromAnyOtherInstance() {
    byte[] noInstance = KeyDerivation.diskCryptKey(rootCa, appId, new byte[0]);

    assertThat(noInstance).hasSize(32).isNotEqualTo(hex("disk_crypt_key"));
    // app_id ‖ "" ‖ label: the same HKDF info as the two-part context
    assertThat(noInstance)
        .isEqualTo(
            KeyDerivation.deriveDhSecret(rootCa, List.of(appId, ascii("app-disk-crypt-key"))));
  }

  @Test
  void contextParts_areConcatenatedWithoutSeparators() {
    byte[] ikm = ascii("input key material");

    assertThat(KeyDerivation.deriveKey(ikm, List.of(ascii("ab"), ascii("c")), 32))
        .isEqualTo(KeyDerivation.deriveKey(ikm, List.of(ascii("a"), ascii("bc")), 32))
        .isEqualTo(KeyDerivation.deriveKey(ikm, List.of(ascii("abc")), 32));
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 31, 32, 33, 64, 255, 8160})
  void deriveKey_matchesAnIndependentRfc5869Hkdf(int length) throws Exception {
    byte[] ikm = ascii("input key material");
    List<byte[]> parts = List.of(ascii("context one"), new byte[] {0, 1, 2});

    assertThat(KeyDerivation.deriveKey(ikm, parts, length))
        .isEqualTo(referenceHkdf(ikm, ascii("RATLS"), concat(parts), length));
  }

  @Test
  void deriveKey_rejectsLengthsBeyondRfc5869() {
    assertThatThrownBy(() -> KeyDerivation.deriveKey(new byte[32], List.of(), 8161))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> KeyDerivation.deriveKey(new byte[32], List.of(), -1))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void x25519PublicKey_equalsJdkX25519OfTheClampedSecret() throws Exception {
    Random random = new Random(7);
    for (int i = 0; i < 32; i++) {
      byte[] secret = randomBytes(random, 32);
      byte[] expected = jdkX25519(clamp(secret));

      assertThat(KeyDerivation.x25519PublicKey(secret)).isEqualTo(expected);
      assertThat(KeyDerivation.x25519PublicKey(clamp(secret))).isEqualTo(expected);
    }
    assertThat(jdkX25519(clamp(hex("env_crypt_key")))).isEqualTo(hex("env_public_key"));
  }

  @Test
  void rootKeyFromBouncyCastleProvider_derivesTheSameKeys() throws Exception {
    ECPrivateKey bcRoot =
        (ECPrivateKey)
            KeyFactory.getInstance("EC", new BouncyCastleProvider())
                .generatePrivate(new PKCS8EncodedKeySpec(hex("root_ca_pkcs8")));

    assertThat(KeyDerivation.diskCryptKey(bcRoot, appId, instanceId))
        .isEqualTo(hex("disk_crypt_key"));
  }

  @Test
  void nonP256RootKey_isRejected() throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp384r1"));
    ECPrivateKey p384 = (ECPrivateKey) generator.generateKeyPair().getPrivate();

    assertThatThrownBy(() -> KeyDerivation.envCryptKey(p384, appId))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("not a P-256 private key");
  }

  @Test
  void invalidRootK256_isRejectedWithoutEchoingIt() {
    byte[] zero = new byte[32];
    byte[] order = BigIntegers.asUnsignedByteArray(32, secp256k1Order());

    for (byte[] bad : List.of(zero, order, new byte[31])) {
      assertThatThrownBy(() -> KeyDerivation.appK256Key(bad, appId))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("not a valid secp256k1 private key");
    }
  }

  @Test
  void appCaKeyPair_signsAndVerifiesWithTheJdk() throws Exception {
    KeyPair appCa = KeyDerivation.appCaKeyPair(rootCa, appId);
    byte[] message = ascii("tbs certificate");
    Signature signer = Signature.getInstance("SHA256withECDSA");
    signer.initSign(appCa.getPrivate());
    signer.update(message);
    byte[] signature = signer.sign();

    Signature verifier = Signature.getInstance("SHA256withECDSA");
    verifier.initVerify(appCa.getPublic());
    verifier.update(message);
    assertThat(verifier.verify(signature)).isTrue();
  }

  // ---- helpers ----

  private static BigInteger secp256k1Order() {
    return org.bouncycastle.crypto.ec.CustomNamedCurves.getByName("secp256k1").getN();
  }

  static byte[] referenceHkdf(byte[] ikm, byte[] salt, byte[] info, int length)
      throws GeneralSecurityException {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(salt, "HmacSHA256"));
    byte[] prk = mac.doFinal(ikm);
    mac.init(new SecretKeySpec(prk, "HmacSHA256"));
    ByteArrayOutputStream okm = new ByteArrayOutputStream();
    byte[] t = new byte[0];
    for (int counter = 1; okm.size() < length; counter++) {
      mac.update(t);
      mac.update(info);
      mac.update((byte) counter);
      t = mac.doFinal();
      okm.writeBytes(t);
    }
    return Arrays.copyOf(okm.toByteArray(), length);
  }

  private static byte[] jdkX25519(byte[] scalar) throws GeneralSecurityException {
    KeyFactory factory = KeyFactory.getInstance("XDH");
    KeyAgreement agreement = KeyAgreement.getInstance("X25519");
    agreement.init(
        factory.generatePrivate(new XECPrivateKeySpec(NamedParameterSpec.X25519, scalar)));
    agreement.doPhase(
        factory.generatePublic(
            new XECPublicKeySpec(NamedParameterSpec.X25519, BigInteger.valueOf(9))),
        true);
    return agreement.generateSecret();
  }

  private static byte[] clamp(byte[] secret) {
    byte[] k = secret.clone();
    k[0] &= (byte) 248;
    k[31] &= 127;
    k[31] |= 64;
    return k;
  }

  private static byte[] concat(List<byte[]> parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    parts.forEach(out::writeBytes);
    return out.toByteArray();
  }

  private static byte[] randomBytes(Random random, int length) {
    byte[] bytes = new byte[length];
    random.nextBytes(bytes);
    return bytes;
  }

  private static String hexOf(byte[] bytes) {
    return java.util.HexFormat.of().formatHex(bytes);
  }

  static byte[] ascii(String s) {
    return s.getBytes(US_ASCII);
  }
}
