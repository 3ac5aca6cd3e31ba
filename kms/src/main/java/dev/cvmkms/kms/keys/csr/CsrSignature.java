package dev.cvmkms.kms.keys.csr;

import java.io.IOException;
import java.math.BigInteger;
import java.util.Arrays;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.ec.CustomNamedCurves;
import org.bouncycastle.crypto.params.ECDomainParameters;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.crypto.signers.ECDSASigner;
import org.bouncycastle.math.ec.ECPoint;
import org.jspecify.annotations.Nullable;

/**
 * The CSR signature check as upstream's {@code Csr::verify} does it: parse the SPKI and require an
 * EC key, verify ring's {@code ECDSA_P256_SHA256_ASN1} (uncompressed P-256 point, strict DER
 * signature, SHA-256 of the message) over the key bits, and only then check the confirm word.
 */
final class CsrSignature {
  private static final X9ECParameters P256 = CustomNamedCurves.getByName("secp256r1");
  private static final ECDomainParameters DOMAIN =
      new ECDomainParameters(P256.getCurve(), P256.getG(), P256.getN(), P256.getH());
  private static final int MAX_DER_SIGNATURE = 72;

  private CsrSignature() {}

  static void verify(byte[] spki, byte[] message, byte[] derSignature) throws CsrException {
    byte[] keyBits = ecKeyBits(spki);
    ECPoint point = p256Point(keyBits);
    BigInteger[] rs = strictDerSignature(derSignature);
    if (point == null || rs == null) {
      throw CsrException.signature("Invalid signature");
    }
    SHA256Digest sha256 = new SHA256Digest();
    sha256.update(message, 0, message.length);
    byte[] hash = new byte[32];
    sha256.doFinal(hash, 0);
    ECDSASigner verifier = new ECDSASigner();
    verifier.init(false, new ECPublicKeyParameters(point, DOMAIN));
    if (!verifier.verifySignature(hash, rs[0], rs[1])) {
      throw CsrException.signature("Invalid signature");
    }
  }

  private static byte[] ecKeyBits(byte[] spki) throws CsrException {
    SubjectPublicKeyInfo info;
    try {
      info = SubjectPublicKeyInfo.getInstance(ASN1Primitive.fromByteArray(spki));
    } catch (IOException | RuntimeException e) {
      throw CsrException.signature("Failed to parse pubkey");
    }
    if (info == null) {
      throw CsrException.signature("Failed to parse pubkey");
    }
    if (!X9ObjectIdentifiers.id_ecPublicKey.equals(info.getAlgorithm().getAlgorithm())) {
      throw CsrException.signature("Unsupported algorithm");
    }
    return info.getPublicKeyData().getBytes();
  }

  /** ring accepts only the uncompressed form of a point on P-256; anything else is null. */
  private static @Nullable ECPoint p256Point(byte[] keyBits) {
    if (keyBits.length != 65 || keyBits[0] != 0x04) {
      return null;
    }
    try {
      return P256.getCurve().decodePoint(keyBits);
    } catch (IllegalArgumentException notOnCurve) {
      return null;
    }
  }

  /**
   * SEQUENCE { INTEGER r, INTEGER s } in strict DER with 1 ≤ r, s < n, nothing trailing, else null.
   */
  private static BigInteger @Nullable [] strictDerSignature(byte[] der) {
    if (der.length < 8 || der.length > MAX_DER_SIGNATURE || der[0] != 0x30) {
      return null;
    }
    if ((der[1] & 0xff) != der.length - 2) {
      return null; // short-form length covering exactly the rest
    }
    int[] at = {2};
    BigInteger r = derPositiveInteger(der, at);
    if (r == null) {
      return null;
    }
    BigInteger s = derPositiveInteger(der, at);
    if (s == null || at[0] != der.length) {
      return null;
    }
    BigInteger n = P256.getN();
    if (r.compareTo(n) >= 0 || s.compareTo(n) >= 0) {
      return null;
    }
    return new BigInteger[] {r, s};
  }

  private static @Nullable BigInteger derPositiveInteger(byte[] der, int[] at) {
    int i = at[0];
    if (i + 2 > der.length || der[i] != 0x02) {
      return null;
    }
    int length = der[i + 1] & 0xff;
    int start = i + 2;
    if (length == 0 || length > 33 || start + length > der.length) {
      return null;
    }
    byte first = der[start];
    if (first < 0) {
      return null; // negative
    }
    if (first == 0 && (length == 1 || der[start + 1] >= 0)) {
      return null; // zero, or a non-minimal leading zero
    }
    at[0] = start + length;
    return new BigInteger(1, Arrays.copyOfRange(der, start, start + length));
  }
}
