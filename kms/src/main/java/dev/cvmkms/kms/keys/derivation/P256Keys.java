package dev.cvmkms.kms.keys.derivation;

import java.math.BigInteger;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPrivateKeySpec;
import java.security.spec.ECPublicKeySpec;
import java.util.HexFormat;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.crypto.ec.CustomNamedCurves;
import org.bouncycastle.math.ec.FixedPointCombMultiplier;
import org.bouncycastle.util.BigIntegers;

/**
 * P-256 scalars, JDK key objects built from them, and the one PKCS#8 encoding that dstack hashes
 * and that ring accepts.
 */
public final class P256Keys {
  public static final int SCALAR_LENGTH = 32;
  public static final int CANONICAL_PKCS8_LENGTH = 138;

  static final X9ECParameters CURVE = CustomNamedCurves.getByName("secp256r1");

  // PKCS#8 v1 { ecPublicKey, prime256v1 } wrapping ECPrivateKey { version 1, privateKey (32) ...
  private static final byte[] PKCS8_PREFIX =
      HexFormat.of()
          .parseHex("308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b0201010420");
  // ... no [0] parameters, [1] BIT STRING with the uncompressed point.
  private static final byte[] PKCS8_PUBLIC_KEY_TAG = HexFormat.of().parseHex("a144034200");

  private static final ECParameterSpec JDK_PARAMS = jdkParams();

  private P256Keys() {}

  /** The private scalar of a P-256 key as 32 big-endian bytes (the IKM of §9.2). */
  public static byte[] scalar(ECPrivateKey key) {
    ECParameterSpec params = key.getParams();
    if (params == null
        || !params.getOrder().equals(CURVE.getN())
        || params.getCurve().getField().getFieldSize() != 256) {
      throw new IllegalArgumentException("not a P-256 private key");
    }
    return toScalarBytes(key.getS());
  }

  /** A JDK key pair for the scalar (the public key is computed from it). */
  public static KeyPair keyPair(byte[] scalar) {
    BigInteger d = requireScalar(scalar);
    org.bouncycastle.math.ec.ECPoint q = publicPoint(d);
    try {
      KeyFactory factory = KeyFactory.getInstance("EC");
      ECPoint w =
          new ECPoint(q.getAffineXCoord().toBigInteger(), q.getAffineYCoord().toBigInteger());
      return new KeyPair(
          factory.generatePublic(new ECPublicKeySpec(w, JDK_PARAMS)),
          factory.generatePrivate(new ECPrivateKeySpec(d, JDK_PARAMS)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK cannot build a P-256 key", e);
    }
  }

  /**
   * The canonical 138-byte PKCS#8 DER of a P-256 key: PKCS#8 v1, ECPrivateKey version 1, no {@code
   * [0]} parameters, {@code [1]} uncompressed public point. This is what the Rust p256 crate
   * writes, what {@code derive_dh_secret} hashes and what ring requires (ring rejects PKCS#8
   * without the public key, which the JDK's own encoding omits).
   */
  public static byte[] canonicalPkcs8(ECPrivateKey key) {
    return canonicalPkcs8(scalar(key));
  }

  /** {@link #canonicalPkcs8(ECPrivateKey)} from the 32-byte scalar. */
  public static byte[] canonicalPkcs8(byte[] scalar) {
    BigInteger d = requireScalar(scalar);
    byte[] point = publicPoint(d).getEncoded(false);
    byte[] out = new byte[CANONICAL_PKCS8_LENGTH];
    int at = 0;
    System.arraycopy(PKCS8_PREFIX, 0, out, at, PKCS8_PREFIX.length);
    at += PKCS8_PREFIX.length;
    System.arraycopy(toScalarBytes(d), 0, out, at, SCALAR_LENGTH);
    at += SCALAR_LENGTH;
    System.arraycopy(PKCS8_PUBLIC_KEY_TAG, 0, out, at, PKCS8_PUBLIC_KEY_TAG.length);
    at += PKCS8_PUBLIC_KEY_TAG.length;
    System.arraycopy(point, 0, out, at, point.length);
    return out;
  }

  /** The uncompressed public point (65 bytes, {@code 04 ‖ X ‖ Y}) of the scalar. */
  public static byte[] uncompressedPublicKey(byte[] scalar) {
    return publicPoint(requireScalar(scalar)).getEncoded(false);
  }

  /** True if the 32 bytes are a valid P-256 private scalar: 1 ≤ d < n. */
  public static boolean isValidScalar(byte[] scalar) {
    if (scalar.length != SCALAR_LENGTH) {
      return false;
    }
    BigInteger d = new BigInteger(1, scalar);
    return d.signum() > 0 && d.compareTo(CURVE.getN()) < 0;
  }

  static BigInteger requireScalar(byte[] scalar) {
    if (!isValidScalar(scalar)) {
      throw new IllegalArgumentException("not a valid P-256 private scalar");
    }
    return new BigInteger(1, scalar);
  }

  private static org.bouncycastle.math.ec.ECPoint publicPoint(BigInteger d) {
    return new FixedPointCombMultiplier().multiply(CURVE.getG(), d).normalize();
  }

  private static byte[] toScalarBytes(BigInteger d) {
    if (d.signum() <= 0 || d.compareTo(CURVE.getN()) >= 0) {
      throw new IllegalArgumentException("not a valid P-256 private scalar");
    }
    return BigIntegers.asUnsignedByteArray(SCALAR_LENGTH, d);
  }

  private static ECParameterSpec jdkParams() {
    try {
      AlgorithmParameters params = AlgorithmParameters.getInstance("EC");
      params.init(new ECGenParameterSpec("secp256r1"));
      return params.getParameterSpec(ECParameterSpec.class);
    } catch (GeneralSecurityException e) {
      throw new ExceptionInInitializerError(e);
    }
  }
}
