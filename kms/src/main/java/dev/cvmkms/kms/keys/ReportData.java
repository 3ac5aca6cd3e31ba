package dev.cvmkms.kms.keys;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import org.bouncycastle.crypto.digests.KeccakDigest;

/** The 64-byte TDX report_data values the KMS asks the attester to bind (spec §8.4, §10.3). */
public final class ReportData {
  public static final int LENGTH = 64;

  /** The typo {@code genereted} is part of dstack's format. */
  static final String BOOTSTRAP_PREFIX = "dstack-kms-genereted-keys-v1:";

  private ReportData() {}

  /** RA-TLS binding of a certificate key: {@code SHA-512("ratls-cert:" ‖ SPKI DER)}. */
  public static byte[] forRaTlsCert(byte[] spkiDer) {
    try {
      MessageDigest sha512 = MessageDigest.getInstance("SHA-512");
      sha512.update("ratls-cert:".getBytes(StandardCharsets.US_ASCII));
      return sha512.digest(spkiDer);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-512 missing from the JDK", e);
    }
  }

  /**
   * Bootstrap attestation of the generated keys: {@code keccak256("dstack-kms-genereted-keys-v1:" +
   * hex(caSpki) + ";" + hex(k256Compressed) + ";")} followed by 32 zero bytes.
   */
  public static byte[] forBootstrap(byte[] rootCaSpkiDer, byte[] k256CompressedPublicKey) {
    HexFormat hex = HexFormat.of();
    String preimage =
        BOOTSTRAP_PREFIX
            + hex.formatHex(rootCaSpkiDer)
            + ";"
            + hex.formatHex(k256CompressedPublicKey)
            + ";";
    byte[] input = preimage.getBytes(StandardCharsets.US_ASCII);
    // Keccak-256 as Ethereum uses it, not NIST SHA3-256 (different padding).
    KeccakDigest keccak = new KeccakDigest(256);
    keccak.update(input, 0, input.length);
    byte[] out = new byte[LENGTH];
    keccak.doFinal(out, 0);
    Arrays.fill(out, 32, LENGTH, (byte) 0);
    return out;
  }
}
