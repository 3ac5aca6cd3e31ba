package dev.cvmkms.kms.keys.derivation;

import static dev.cvmkms.kms.keys.derivation.Vectors.hex;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.Random;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.crypto.ec.CustomNamedCurves;
import org.bouncycastle.crypto.params.ECDomainParameters;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.crypto.signers.ECDSASigner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class Secp256k1Test {
  private static final X9ECParameters K1 = CustomNamedCurves.getByName("secp256k1");
  private static final BigInteger N = K1.getN();

  private enum V {
    ZERO,
    ONE
  }

  @Test
  void rootK256PublicKey_vector() {
    assertThat(Secp256k1.publicKeyCompressed(hex("root_k256"))).isEqualTo(hex("root_k256_pub"));
  }

  @Test
  void sdkFixtureSignature_recoversTheSdkSigner() {
    // A signature made by a real dstack KMS (Rust k256), recovered by our code.
    assertThat(Secp256k1.recoverPublicKey(hex("sdk_env_digest"), hex("sdk_env_signature")))
        .hasValueSatisfying(pub -> assertThat(pub).isEqualTo(hex("sdk_env_signer")));
  }

  @Test
  void signatures_recoverTheSigner_areLowS_useBothRecoveryIds_andVerifyAsPlainEcdsa() {
    Random random = new Random(0x6b323536L);
    EnumSet<V> seen = EnumSet.noneOf(V.class);
    for (int i = 0; i < 64; i++) {
      byte[] key = validKey(random);
      byte[] digest = new byte[32];
      random.nextBytes(digest);

      byte[] signature = Secp256k1.signRecoverable(key, digest);

      assertThat(signature).hasSize(65);
      assertThat(signature[64]).isIn((byte) 0, (byte) 1);
      seen.add(signature[64] == 0 ? V.ZERO : V.ONE);
      BigInteger r = new BigInteger(1, Arrays.copyOfRange(signature, 0, 32));
      BigInteger s = new BigInteger(1, Arrays.copyOfRange(signature, 32, 64));
      assertThat(s).isLessThanOrEqualTo(N.shiftRight(1));
      assertThat(Secp256k1.recoverPublicKey(digest, signature))
          .hasValueSatisfying(pub -> assertThat(pub).isEqualTo(Secp256k1.publicKeyCompressed(key)));
      assertThat(plainVerify(Secp256k1.publicKeyUncompressed(key), digest, r, s)).isTrue();
    }
    assertThat(seen).containsExactlyInAnyOrder(V.ZERO, V.ONE);
  }

  /** The recovery id read off the nonce point is the one that recovers the signer. */
  @Test
  void recoveryId_isTheOneThatRecoversTheSigner_andRsMatchBouncyCastlesSigner() {
    Random random = new Random(0x72656376L);
    ECDomainParameters domain = new ECDomainParameters(K1);
    for (int i = 0; i < 48; i++) {
      byte[] key = validKey(random);
      byte[] digest = new byte[32];
      random.nextBytes(digest);

      byte[] signature = Secp256k1.signRecoverable(key, digest);

      ECDSASigner bc =
          new ECDSASigner(
              new org.bouncycastle.crypto.signers.HMacDSAKCalculator(
                  new org.bouncycastle.crypto.digests.SHA256Digest()));
      bc.init(
          true,
          new org.bouncycastle.crypto.params.ECPrivateKeyParameters(
              new BigInteger(1, key), domain));
      BigInteger[] rs = bc.generateSignature(digest);
      BigInteger lowS = rs[1].compareTo(N.shiftRight(1)) > 0 ? N.subtract(rs[1]) : rs[1];
      assertThat(new BigInteger(1, Arrays.copyOfRange(signature, 0, 32))).isEqualTo(rs[0]);
      assertThat(new BigInteger(1, Arrays.copyOfRange(signature, 32, 64))).isEqualTo(lowS);
      byte[] flipped = signature.clone();
      flipped[64] ^= 1;
      assertThat(Secp256k1.recoverPublicKey(digest, signature))
          .hasValueSatisfying(pub -> assertThat(pub).isEqualTo(Secp256k1.publicKeyCompressed(key)));
      assertThat(Secp256k1.recoverPublicKey(digest, flipped))
          .satisfiesAnyOf(
              o -> assertThat(o).isEmpty(),
              o -> assertThat(o.get()).isNotEqualTo(Secp256k1.publicKeyCompressed(key)));
    }
  }

  /**
   * The community RFC 6979 secp256k1 vectors (bitcointalk topic 285142, repeated in many wallet
   * test suites), shown in low-S form: HMAC-SHA256 nonces over the 32-byte prehash plus low-S
   * normalisation, which is also what k256's {@code sign_prehash_recoverable} does.
   */
  @ParameterizedTest
  @CsvSource({
    "0000000000000000000000000000000000000000000000000000000000000001, Satoshi Nakamoto,"
        + " 934b1ea10a4b3c1757e2b0c017d0b6143ce3c9a7e6a4a49860d7a6ab210ee3d8"
        + "2442ce9d2b916064108014783e923ec36b49743e2ffa1c4496f01a512aafd9e5",
    "0000000000000000000000000000000000000000000000000000000000000001,"
        + " 'All those moments will be lost in time, like tears in rain. Time to die...',"
        + " 8600dbd41e348fe5c9465ab92d23e3db8b98b873beecd930736488696438cb6b"
        + "547fe64427496db33bf66019dacbf0039c04199abb0122918601db38a72cfc21",
    "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140, Satoshi Nakamoto,"
        + " fd567d121db66e382991534ada77a6bd3106f0a1098c231e47993447cd6af2d0"
        + "6b39cd0eb1bc8603e159ef5c20a5c8ad685a45b06ce9bebed3f153d10d93bed5",
  })
  void rfc6979Vectors_lowS(String key, String message, String rs) throws Exception {
    byte[] digest =
        MessageDigest.getInstance("SHA-256").digest(message.getBytes(StandardCharsets.US_ASCII));

    byte[] signature = Secp256k1.signRecoverable(HexFormat.of().parseHex(key), digest);

    assertThat(HexFormat.of().formatHex(Arrays.copyOf(signature, 64))).isEqualTo(rs);
  }

  @Test
  void signing_isDeterministic() {
    byte[] key = hex("root_k256");
    byte[] digest = hex("kms_issued_digest");

    assertThat(Secp256k1.signRecoverable(key, digest))
        .isEqualTo(Secp256k1.signRecoverable(key, digest));
  }

  @Test
  void flippedRecoveryId_recoversADifferentKey() {
    byte[] signature = Secp256k1.signRecoverable(hex("root_k256"), hex("kms_issued_digest"));
    signature[64] ^= 1;

    assertThat(Secp256k1.recoverPublicKey(hex("kms_issued_digest"), signature))
        .hasValueSatisfying(pub -> assertThat(pub).isNotEqualTo(hex("root_k256_pub")));
  }

  @Test
  void malformedSignatures_recoverNothing() {
    byte[] digest = hex("kms_issued_digest");
    byte[] good = Secp256k1.signRecoverable(hex("root_k256"), digest);

    byte[] v27 = good.clone();
    v27[64] = 27;
    byte[] zeroR = good.clone();
    Arrays.fill(zeroR, 0, 32, (byte) 0);
    byte[] sEqualsN = good.clone();
    System.arraycopy(
        org.bouncycastle.util.BigIntegers.asUnsignedByteArray(32, N), 0, sEqualsN, 32, 32);

    assertThat(Secp256k1.recoverPublicKey(digest, v27)).isEmpty();
    assertThat(Secp256k1.recoverPublicKey(digest, zeroR)).isEmpty();
    assertThat(Secp256k1.recoverPublicKey(digest, sEqualsN)).isEmpty();
    assertThat(Secp256k1.recoverPublicKey(digest, Arrays.copyOf(good, 64))).isEmpty();
  }

  @Test
  void wrongDigestLength_isRejected() {
    assertThatThrownBy(() -> Secp256k1.signRecoverable(hex("root_k256"), new byte[31]))
        .isInstanceOf(IllegalArgumentException.class);
  }

  private static byte[] validKey(Random random) {
    byte[] key = new byte[32];
    do {
      random.nextBytes(key);
    } while (!Secp256k1.isValidPrivateKey(key));
    return key;
  }

  private static boolean plainVerify(
      byte[] uncompressed, byte[] digest, BigInteger r, BigInteger s) {
    ECDomainParameters domain = new ECDomainParameters(K1.getCurve(), K1.getG(), N, K1.getH());
    ECDSASigner verifier = new ECDSASigner();
    verifier.init(
        false, new ECPublicKeyParameters(K1.getCurve().decodePoint(uncompressed), domain));
    return verifier.verifySignature(digest, r, s);
  }
}
