package dev.cvmkms.kms.keys.derivation;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The messages the root K256 key signs (spec §9.3, §4.3, §15.1 item 6). Each is {@code
 * keccak256(prefix ‖ ":" ‖ app_id ‖ message)}, signed in the 65-byte recoverable format of {@link
 * Secp256k1}. Guests and SDKs recover the signer and compare it with the registered root K256 key.
 */
public final class AppSignatures {
  static final String KMS_ISSUED = "dstack-kms-issued";
  static final String ENV_ENCRYPT_PUBKEY = "dstack-env-encrypt-pubkey";

  private AppSignatures() {}

  /** {@code keccak256("dstack-kms-issued:" ‖ app_id ‖ compressed33(app pub))}. */
  public static byte[] kmsIssuedDigest(byte[] appId, byte[] appPublicKeyCompressed) {
    if (appPublicKeyCompressed.length != Secp256k1.COMPRESSED_KEY_LENGTH) {
      throw new IllegalArgumentException("app public key must be 33 bytes (compressed)");
    }
    return digest(KMS_ISSUED, appId, appPublicKeyCompressed);
  }

  /** Legacy {@code signature}: {@code keccak256("dstack-env-encrypt-pubkey:" ‖ app_id ‖ pub)}. */
  public static byte[] envPubKeyDigest(byte[] appId, byte[] envPublicKey) {
    return digest(ENV_ENCRYPT_PUBKEY, appId, envPublicKey);
  }

  /**
   * {@code signature_v1}: {@code keccak256("dstack-env-encrypt-pubkey:" ‖ app_id ‖ u64_be(ts) ‖
   * pub)}, with {@code ts} in Unix seconds.
   */
  public static byte[] envPubKeyDigestV1(byte[] appId, long timestamp, byte[] envPublicKey) {
    if (timestamp < 0) {
      throw new IllegalArgumentException("timestamp must not be negative");
    }
    byte[] ts = ByteBuffer.allocate(Long.BYTES).putLong(timestamp).array();
    return digest(ENV_ENCRYPT_PUBKEY, appId, ts, envPublicKey);
  }

  /** The root K256 key's signature over {@link #kmsIssuedDigest}. */
  public static byte[] signKmsIssued(byte[] rootK256, byte[] appId, byte[] appPublicKeyCompressed) {
    return Secp256k1.signRecoverable(rootK256, kmsIssuedDigest(appId, appPublicKeyCompressed));
  }

  /** The root K256 key's signature over {@link #envPubKeyDigest}. */
  public static byte[] signEnvPubKey(byte[] rootK256, byte[] appId, byte[] envPublicKey) {
    return Secp256k1.signRecoverable(rootK256, envPubKeyDigest(appId, envPublicKey));
  }

  /** The root K256 key's signature over {@link #envPubKeyDigestV1}. */
  public static byte[] signEnvPubKeyV1(
      byte[] rootK256, byte[] appId, long timestamp, byte[] envPublicKey) {
    return Secp256k1.signRecoverable(rootK256, envPubKeyDigestV1(appId, timestamp, envPublicKey));
  }

  private static byte[] digest(String prefix, byte[] appId, byte[]... message) {
    byte[][] parts = new byte[message.length + 2][];
    parts[0] = (prefix + ":").getBytes(StandardCharsets.US_ASCII);
    parts[1] = appId;
    System.arraycopy(message, 0, parts, 2, message.length);
    return Keccak256.digest(parts);
  }
}
