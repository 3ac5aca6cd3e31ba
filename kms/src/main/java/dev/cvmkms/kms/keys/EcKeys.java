package dev.cvmkms.kms.keys;

import dev.cvmkms.kms.encoding.Pem;
import dev.cvmkms.kms.keys.derivation.P256Keys;
import dev.cvmkms.kms.keys.derivation.Secp256k1;
import java.io.IOException;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.util.Arrays;
import org.bouncycastle.asn1.ASN1BitString;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.util.BigIntegers;

/**
 * Elliptic-curve helpers for the two curves the KMS uses: P-256 (CA, temp CA and RPC keys, as JDK
 * {@link KeyPair}s) and secp256k1 (the root K256 key, a 32-byte big-endian scalar).
 */
public final class EcKeys {
  private EcKeys() {}

  /** A fresh P-256 key pair. */
  public static KeyPair generateP256(SecureRandom random) {
    byte[] scalar = new byte[32];
    for (int attempt = 0; attempt < 64; attempt++) {
      random.nextBytes(scalar);
      if (P256Keys.isValidScalar(scalar)) {
        KeyPair pair = p256FromScalar(scalar);
        Arrays.fill(scalar, (byte) 0);
        return pair;
      }
    }
    throw new IllegalStateException("random source produced no valid P-256 scalar in 64 tries");
  }

  /** A fresh secp256k1 private scalar, 32 bytes big-endian. */
  public static byte[] generateK256Scalar(SecureRandom random) {
    byte[] scalar = new byte[32];
    for (int attempt = 0; attempt < 64; attempt++) {
      random.nextBytes(scalar);
      if (Secp256k1.isValidPrivateKey(scalar)) {
        return scalar;
      }
    }
    throw new IllegalStateException("random source produced no valid secp256k1 scalar in 64 tries");
  }

  /** The P-256 key pair for a 32-byte big-endian scalar in [1, n). */
  public static KeyPair p256FromScalar(byte[] scalar) {
    return P256Keys.keyPair(scalar);
  }

  /** The private scalar of a P-256 key, 32 bytes big-endian. A secret: callers must not log it. */
  public static byte[] p256Scalar(KeyPair pair) {
    return P256Keys.scalar((ECPrivateKey) pair.getPrivate());
  }

  /** The uncompressed SEC1 point {@code 04‖X‖Y}, 65 bytes. */
  public static byte[] uncompressedPoint(PublicKey publicKey) {
    var w = ((ECPublicKey) publicKey).getW();
    byte[] out = new byte[65];
    out[0] = 4;
    System.arraycopy(BigIntegers.asUnsignedByteArray(32, w.getAffineX()), 0, out, 1, 32);
    System.arraycopy(BigIntegers.asUnsignedByteArray(32, w.getAffineY()), 0, out, 33, 32);
    return out;
  }

  /** SubjectPublicKeyInfo DER of an EC public key (91 bytes for P-256). */
  public static byte[] spkiDer(PublicKey publicKey) {
    return publicKey.getEncoded();
  }

  /** The PKCS#8 DER of a P-256 key pair in ring's 138-byte form (what rcgen writes, §9.2). */
  public static byte[] pkcs8Der(KeyPair pair) {
    return P256Keys.canonicalPkcs8((ECPrivateKey) pair.getPrivate());
  }

  /** {@code -----BEGIN PRIVATE KEY-----} PEM of {@link #pkcs8Der}. */
  public static String pkcs8Pem(KeyPair pair) {
    return Pem.encode(Pem.PRIVATE_KEY, pkcs8Der(pair));
  }

  /**
   * Reads a P-256 key from PKCS#8 PEM ({@code PRIVATE KEY}), as written by rcgen, OpenSSL or the
   * JDK. The embedded public key, if any, must match the private scalar.
   *
   * @throws IllegalArgumentException saying what is wrong, never including key bytes
   */
  public static KeyPair parseP256Pkcs8Pem(String pem) {
    byte[] der;
    try {
      der = Pem.decode(pem, Pem.PRIVATE_KEY);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          e.getMessage()
              + " (keys must be unencrypted PKCS#8 PEM; `openssl pkcs8 -topk8 -nocrypt`"
              + " converts other forms)",
          e);
    }
    PrivateKeyInfo info;
    org.bouncycastle.asn1.sec.ECPrivateKey ecKey;
    try {
      info = PrivateKeyInfo.getInstance(der);
      ecKey = org.bouncycastle.asn1.sec.ECPrivateKey.getInstance(info.parsePrivateKey());
    } catch (RuntimeException | IOException e) {
      throw new IllegalArgumentException("malformed PKCS#8 EC private key", e);
    }
    var alg = info.getPrivateKeyAlgorithm();
    ASN1Encodable curve = alg.getParameters();
    if (!X9ObjectIdentifiers.id_ecPublicKey.equals(alg.getAlgorithm())
        || !SECObjectIdentifiers.secp256r1.equals(curve)) {
      throw new IllegalArgumentException(
          "not a P-256 EC key (algorithm " + alg.getAlgorithm() + ", parameters " + curve + ")");
    }
    BigInteger d = ecKey.getKey();
    if (d.signum() <= 0 || d.bitLength() > 256) {
      throw new IllegalArgumentException("private scalar out of range");
    }
    KeyPair pair = p256FromScalar(BigIntegers.asUnsignedByteArray(32, d));
    ASN1BitString embedded = ecKey.getPublicKey();
    if (embedded != null
        && !Arrays.equals(embedded.getOctets(), uncompressedPoint(pair.getPublic()))) {
      throw new IllegalArgumentException("embedded public key does not match the private key");
    }
    return pair;
  }

  /** Checks that {@code scalar} is 32 bytes and a valid secp256k1 private key. */
  public static void requireK256Scalar(byte[] scalar) {
    if (scalar.length != 32) {
      throw new IllegalArgumentException(
          "secp256k1 key must be exactly 32 raw bytes, found " + scalar.length);
    }
    if (!Secp256k1.isValidPrivateKey(scalar)) {
      throw new IllegalArgumentException("not a valid secp256k1 private scalar (0 or >= n)");
    }
  }

  /** The compressed 33-byte secp256k1 public key of a 32-byte private scalar. */
  public static byte[] k256CompressedPublicKey(byte[] scalar) {
    requireK256Scalar(scalar);
    return Secp256k1.publicKeyCompressed(scalar);
  }

  /** Whether two public keys are the same key (same SubjectPublicKeyInfo). */
  public static boolean samePublicKey(PublicKey a, PublicKey b) {
    return Arrays.equals(a.getEncoded(), b.getEncoded());
  }
}
