package dev.cvmkms.kms.keys.derivation;

import org.bouncycastle.crypto.digests.KeccakDigest;

/** Keccak-256 as Ethereum uses it (the original Keccak padding, not NIST SHA3-256). */
public final class Keccak256 {
  public static final int LENGTH = 32;

  private Keccak256() {}

  /** Keccak-256 of the plain concatenation of {@code parts}. */
  public static byte[] digest(byte[]... parts) {
    KeccakDigest keccak = new KeccakDigest(256);
    for (byte[] part : parts) {
      keccak.update(part, 0, part.length);
    }
    byte[] out = new byte[LENGTH];
    keccak.doFinal(out, 0);
    return out;
  }
}
