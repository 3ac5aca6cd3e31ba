package dev.cvmkms.kms.keys;

import dev.cvmkms.kms.attestation.ratls.RaTlsExtensions;
import dev.cvmkms.kms.keys.derivation.Keccak256;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;

/** The 64-byte TDX report_data values the KMS asks the attester to bind (spec §8.4, §10.3). */
public final class ReportData {
  public static final int LENGTH = 64;

  /** The typo {@code genereted} is part of dstack's format. */
  static final String BOOTSTRAP_PREFIX = "dstack-kms-genereted-keys-v1:";

  private ReportData() {}

  /** RA-TLS binding of a certificate key: {@code SHA-512("ratls-cert:" ‖ SPKI DER)}. */
  public static byte[] forRaTlsCert(byte[] spkiDer) {
    return RaTlsExtensions.reportData(spkiDer);
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
    // Keccak-256 as Ethereum uses it (not NIST SHA3-256), then 32 zero bytes.
    return Arrays.copyOf(Keccak256.digest(preimage.getBytes(StandardCharsets.US_ASCII)), LENGTH);
  }
}
