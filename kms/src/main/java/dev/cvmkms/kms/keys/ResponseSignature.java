package dev.cvmkms.kms.keys;

import dev.cvmkms.kms.keys.derivation.Keccak256;
import dev.cvmkms.kms.keys.derivation.Secp256k1;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Optional;

/**
 * The signature a KMS puts on its public responses, in dedicated headers rather than {@code Date}
 * (which proxies rewrite): {@code X-Kms-Timestamp} (Unix seconds, decimal) and {@code
 * X-Kms-Signature} (65 bytes {@code r ‖ s ‖ v} in lowercase hex, v ∈ {0,1}), a recoverable
 * secp256k1 signature by the root K256 key over
 *
 * <pre>keccak256("dstack-kms-response-v1:" + timestamp + ":" + method + ":" + hex(sha256(body)))
 * </pre>
 *
 * with every part ASCII, {@code method} bare ({@code GetMeta}) and {@code body} the exact response
 * bytes (JSON or protobuf, as served).
 *
 * @param timestamp Unix seconds of the signature
 * @param signature the 65-byte {@code r ‖ s ‖ v}
 */
@SuppressWarnings("ArrayRecordComponent") // equals/hashCode below compare the array contents
public record ResponseSignature(long timestamp, byte[] signature) {
  public static final String TIMESTAMP_HEADER = "X-Kms-Timestamp";
  public static final String SIGNATURE_HEADER = "X-Kms-Signature";
  public static final String DOMAIN = "dstack-kms-response-v1";

  private static final HexFormat HEX = HexFormat.of();

  public ResponseSignature {
    if (timestamp < 0) {
      throw new IllegalArgumentException("timestamp must be >= 0: " + timestamp);
    }
    if (signature.length != Secp256k1.SIGNATURE_LENGTH) {
      throw new IllegalArgumentException(
          "signature must be " + Secp256k1.SIGNATURE_LENGTH + " bytes, got " + signature.length);
    }
    signature = signature.clone();
  }

  /** Signs {@code body} as the response of {@code method} at {@code timestamp}. */
  public static ResponseSignature sign(
      byte[] k256PrivateKey, long timestamp, String method, byte[] body) {
    return new ResponseSignature(
        timestamp,
        Secp256k1.signRecoverable(k256PrivateKey, digest(timestamp, method, sha256(body))));
  }

  /** Parses the two header values; throws {@link IllegalArgumentException} naming the header. */
  public static ResponseSignature parse(String timestampHeader, String signatureHeader) {
    Objects.requireNonNull(timestampHeader, TIMESTAMP_HEADER);
    Objects.requireNonNull(signatureHeader, SIGNATURE_HEADER);
    String t = timestampHeader.trim();
    if (!t.matches("[0-9]{1,18}")) {
      throw new IllegalArgumentException(TIMESTAMP_HEADER + " is not Unix seconds: " + t);
    }
    String s = signatureHeader.trim();
    if (!s.matches("[0-9a-f]{" + 2 * Secp256k1.SIGNATURE_LENGTH + "}")) {
      throw new IllegalArgumentException(
          SIGNATURE_HEADER
              + " must be "
              + 2 * Secp256k1.SIGNATURE_LENGTH
              + " lowercase hex digits, got "
              + s.length()
              + " characters");
    }
    return new ResponseSignature(Long.parseLong(t), HEX.parseHex(s));
  }

  /** The 32-byte digest that is signed, from the body's SHA-256. */
  public static byte[] digest(long timestamp, String method, byte[] bodySha256) {
    Objects.requireNonNull(method, "method");
    if (method.isEmpty() || method.chars().anyMatch(c -> c < 0x21 || c > 0x7e || c == ':')) {
      throw new IllegalArgumentException("method must be a bare ASCII name: " + method);
    }
    if (bodySha256.length != 32) {
      throw new IllegalArgumentException("body hash must be 32 bytes");
    }
    String message = DOMAIN + ":" + timestamp + ":" + method + ":" + HEX.formatHex(bodySha256);
    return Keccak256.digest(message.getBytes(StandardCharsets.US_ASCII));
  }

  public static byte[] sha256(byte[] body) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(body);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  /** The compressed K256 key that signed {@code body} for {@code method}, if any. */
  public Optional<byte[]> recover(String method, byte[] body) {
    return Secp256k1.recoverPublicKey(digest(timestamp, method, sha256(body)), signature);
  }

  /** True when the signature over ({@code method}, {@code body}) recovers {@code k256Pubkey}. */
  public boolean verifies(String method, byte[] body, byte[] compressedK256Pubkey) {
    return recover(method, body).map(k -> Arrays.equals(k, compressedK256Pubkey)).orElse(false);
  }

  @Override
  public byte[] signature() {
    return signature.clone();
  }

  /** The {@code X-Kms-Timestamp} value. */
  public String timestampHeader() {
    return Long.toString(timestamp);
  }

  /** The {@code X-Kms-Signature} value. */
  public String signatureHeader() {
    return HEX.formatHex(signature);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ResponseSignature r
        && timestamp == r.timestamp
        && Arrays.equals(signature, r.signature);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(timestamp) * 31 + Arrays.hashCode(signature);
  }

  @Override
  public String toString() {
    return "ResponseSignature[" + timestamp + ", " + signatureHeader() + "]";
  }
}
