package dev.cvmkms.kms.keys.derivation;

import java.math.BigInteger;
import java.util.Arrays;
import java.util.Optional;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.ec.CustomNamedCurves;
import org.bouncycastle.crypto.signers.HMacDSAKCalculator;
import org.bouncycastle.math.ec.ECAlgorithms;
import org.bouncycastle.math.ec.ECPoint;
import org.bouncycastle.math.ec.FixedPointCombMultiplier;
import org.bouncycastle.util.BigIntegers;

/**
 * secp256k1 keys as raw 32-byte big-endian scalars and recoverable signatures in the format of
 * k256's {@code sign_digest_recoverable}: {@code r (32) ‖ s (32) ‖ v (1)}, v ∈ {0,1}, low-S, RFC
 * 6979 nonces (HMAC-SHA256). Verifiers only recover the signer, so only the recovered key has to
 * match the Rust KMS; the nonce choice keeps signatures deterministic.
 */
public final class Secp256k1 {
  public static final int SCALAR_LENGTH = 32;
  public static final int COMPRESSED_KEY_LENGTH = 33;
  public static final int SIGNATURE_LENGTH = 65;

  private static final X9ECParameters CURVE = CustomNamedCurves.getByName("secp256k1");
  private static final BigInteger N = CURVE.getN();
  private static final BigInteger HALF_N = N.shiftRight(1);

  private Secp256k1() {}

  /** True if the 32 bytes are a valid secp256k1 private scalar: 1 ≤ k < n. */
  public static boolean isValidPrivateKey(byte[] scalar) {
    if (scalar.length != SCALAR_LENGTH) {
      return false;
    }
    BigInteger k = new BigInteger(1, scalar);
    return k.signum() > 0 && k.compareTo(N) < 0;
  }

  /** The SEC1 compressed public key (33 bytes). */
  public static byte[] publicKeyCompressed(byte[] privateKey) {
    return publicPoint(requirePrivateKey(privateKey)).getEncoded(true);
  }

  /** The SEC1 uncompressed public key (65 bytes, {@code 04 ‖ X ‖ Y}). */
  public static byte[] publicKeyUncompressed(byte[] privateKey) {
    return publicPoint(requirePrivateKey(privateKey)).getEncoded(false);
  }

  /**
   * Signs a 32-byte digest: {@code r ‖ s ‖ v}, low-S, v ∈ {0,1}. The same steps (and so the same
   * bytes) as BouncyCastle's {@code ECDSASigner} with RFC 6979 nonces, done here because the
   * recovery id is the parity of the nonce point's y, which that class does not expose; reading it
   * off R saves recovering the key afterwards (two double multiplications per signature).
   */
  public static byte[] signRecoverable(byte[] privateKey, byte[] digest) {
    BigInteger d = requirePrivateKey(privateKey);
    requireDigest(digest);
    BigInteger e = new BigInteger(1, digest); // 256-bit digest, 256-bit order: no truncation
    HMacDSAKCalculator nonces = new HMacDSAKCalculator(new SHA256Digest());
    nonces.init(N, d, digest);
    FixedPointCombMultiplier base = new FixedPointCombMultiplier();
    for (int attempt = 0; attempt < 64; attempt++) {
      BigInteger k = nonces.nextK();
      ECPoint bigR = base.multiply(CURVE.getG(), k).normalize();
      BigInteger rx = bigR.getAffineXCoord().toBigInteger();
      BigInteger r = rx.mod(N);
      if (r.signum() == 0) {
        continue;
      }
      BigInteger s = BigIntegers.modOddInverse(N, k).multiply(e.add(d.multiply(r))).mod(N);
      if (s.signum() == 0) {
        continue;
      }
      if (rx.compareTo(N) >= 0) {
        // R.x ≥ n (probability about 2^-127): v ∈ {0,1} cannot express it
        throw new IllegalStateException("signature is not recoverable with v in {0,1}");
      }
      int v = bigR.getAffineYCoord().testBitZero() ? 1 : 0;
      if (s.compareTo(HALF_N) > 0) {
        s = N.subtract(s); // low-S negates R, which flips its parity
        v ^= 1;
      }
      byte[] signature = new byte[SIGNATURE_LENGTH];
      BigIntegers.asUnsignedByteArray(r, signature, 0, 32);
      BigIntegers.asUnsignedByteArray(s, signature, 32, 32);
      signature[64] = (byte) v;
      return signature;
    }
    throw new IllegalStateException("no valid ECDSA nonce"); // unreachable but for a broken RNG
  }

  /**
   * The signer's compressed public key recovered from a 65-byte {@code r ‖ s ‖ v} signature over a
   * 32-byte digest, or empty if the signature is malformed or recovers no key.
   */
  public static Optional<byte[]> recoverPublicKey(byte[] digest, byte[] signature) {
    requireDigest(digest);
    if (signature.length != SIGNATURE_LENGTH || (signature[64] != 0 && signature[64] != 1)) {
      return Optional.empty();
    }
    BigInteger r = new BigInteger(1, Arrays.copyOfRange(signature, 0, 32));
    BigInteger s = new BigInteger(1, Arrays.copyOfRange(signature, 32, 64));
    return recover(digest, r, s, signature[64]).map(q -> q.getEncoded(true));
  }

  // SEC 1 v2 §4.1.6 with R.x = r (the j = 0 case; v carries only the parity of R.y).
  private static Optional<ECPoint> recover(byte[] digest, BigInteger r, BigInteger s, int v) {
    if (r.signum() <= 0 || r.compareTo(N) >= 0 || s.signum() <= 0 || s.compareTo(N) >= 0) {
      return Optional.empty();
    }
    byte[] compressedR = new byte[COMPRESSED_KEY_LENGTH];
    compressedR[0] = (byte) (0x02 | (v & 1));
    BigIntegers.asUnsignedByteArray(r, compressedR, 1, 32);
    ECPoint bigR;
    try {
      bigR = CURVE.getCurve().decodePoint(compressedR);
    } catch (IllegalArgumentException notOnCurve) {
      return Optional.empty();
    }
    BigInteger e = new BigInteger(1, digest).mod(N);
    BigInteger rInv = r.modInverse(N);
    // Q = r⁻¹ (s·R − e·G)
    ECPoint q =
        ECAlgorithms.sumOfTwoMultiplies(
                bigR, s.multiply(rInv).mod(N), CURVE.getG(), N.subtract(e).multiply(rInv).mod(N))
            .normalize();
    return q.isInfinity() ? Optional.empty() : Optional.of(q);
  }

  static BigInteger requirePrivateKey(byte[] privateKey) {
    if (!isValidPrivateKey(privateKey)) {
      throw new IllegalArgumentException("not a valid secp256k1 private key");
    }
    return new BigInteger(1, privateKey);
  }

  private static void requireDigest(byte[] digest) {
    if (digest.length != 32) {
      throw new IllegalArgumentException("digest must be 32 bytes, got " + digest.length);
    }
  }

  private static ECPoint publicPoint(BigInteger d) {
    return new FixedPointCombMultiplier().multiply(CURVE.getG(), d).normalize();
  }
}
