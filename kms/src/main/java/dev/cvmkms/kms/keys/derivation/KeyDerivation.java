package dev.cvmkms.kms.keys.derivation;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.interfaces.ECPrivateKey;
import java.util.List;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.generators.HKDFBytesGenerator;
import org.bouncycastle.crypto.params.HKDFParameters;
import org.bouncycastle.math.ec.rfc7748.X25519;

/**
 * dstack's key derivations, byte for byte (spec kms-protocol.md §9; {@code ra-tls/src/kdf.rs},
 * {@code kms/src/crypto.rs}). Static pure functions; every one is pinned by vectors in the tests.
 *
 * <p>Context parts are concatenated without separators or length prefixes, exactly as ring's {@code
 * Prk::expand(&[&[u8]])} does. App ids are taken as given; callers check their length.
 */
public final class KeyDerivation {
  /** HKDF salt of every derivation. */
  static final byte[] SALT = ascii("RATLS");

  /** HKDF-SHA256 output limit (RFC 5869: 255 × hash length). */
  public static final int MAX_KEY_LENGTH = 255 * 32;

  static final byte[] DISK_CRYPT_KEY = ascii("app-disk-crypt-key");
  static final byte[] ENV_ENCRYPT_KEY = ascii("env-encrypt-key");
  static final byte[] APP_KEY = ascii("app-key");
  static final byte[] APP_CA = ascii("app-ca");

  private KeyDerivation() {}

  /**
   * {@code derive_key}: HKDF-SHA256 (RFC 5869) with salt {@code "RATLS"}, the given IKM and info =
   * the plain concatenation of {@code contextParts}.
   */
  public static byte[] deriveKey(byte[] ikm, List<byte[]> contextParts, int length) {
    if (length < 0 || length > MAX_KEY_LENGTH) {
      throw new IllegalArgumentException("HKDF output length must be 0.." + MAX_KEY_LENGTH);
    }
    HKDFBytesGenerator hkdf = new HKDFBytesGenerator(new SHA256Digest());
    hkdf.init(new HKDFParameters(ikm, SALT, concat(contextParts)));
    byte[] out = new byte[length];
    hkdf.generateBytes(out, 0, length);
    return out;
  }

  /**
   * {@code derive_p256_key_pair}: d' = deriveKey(root scalar as 32 big-endian bytes, parts, 32)
   * read as a big-endian scalar. Fails (no retry, as upstream) if d' is 0 or ≥ n, which has
   * probability about 2^-128.
   */
  public static KeyPair deriveP256KeyPair(ECPrivateKey root, List<byte[]> contextParts) {
    return P256Keys.keyPair(deriveP256Scalar(root, contextParts));
  }

  /**
   * {@code derive_dh_secret}: SHA-256 of the canonical 138-byte PKCS#8 DER of the derived P-256 key
   * (a historical design kept because deployed disks depend on it).
   */
  public static byte[] deriveDhSecret(ECPrivateKey root, List<byte[]> contextParts) {
    byte[] pkcs8 = P256Keys.canonicalPkcs8(deriveP256Scalar(root, contextParts));
    return sha256(pkcs8);
  }

  /**
   * {@code disk_crypt_key} = deriveDhSecret(rootCA, [app_id, instance_id, "app-disk-crypt-key"]).
   */
  public static byte[] diskCryptKey(ECPrivateKey rootCa, byte[] appId, byte[] instanceId) {
    return deriveDhSecret(rootCa, List.of(appId, instanceId, DISK_CRYPT_KEY));
  }

  /**
   * {@code env_crypt_key} = deriveDhSecret(rootCA, [app_id, "env-encrypt-key"]), returned unclamped
   * (x25519-dalek's {@code StaticSecret::to_bytes} does not clamp).
   */
  public static byte[] envCryptKey(ECPrivateKey rootCa, byte[] appId) {
    return deriveDhSecret(rootCa, List.of(appId, ENV_ENCRYPT_KEY));
  }

  /** X25519(secret, 9) with RFC 7748 clamping applied during the multiplication (32 bytes). */
  public static byte[] x25519PublicKey(byte[] secret) {
    if (secret.length != X25519.SCALAR_SIZE) {
      throw new IllegalArgumentException("X25519 secret must be 32 bytes");
    }
    byte[] publicKey = new byte[X25519.POINT_SIZE];
    X25519.scalarMultBase(secret, 0, publicKey, 0); // BouncyCastle clamps the scalar itself
    return publicKey;
  }

  /** The app's env-encryption public key: X25519 of {@link #envCryptKey}. */
  public static byte[] envEncryptPublicKey(ECPrivateKey rootCa, byte[] appId) {
    return x25519PublicKey(envCryptKey(rootCa, appId));
  }

  /**
   * The app's secp256k1 key: deriveKey(root K256 scalar as 32 big-endian bytes, [app_id,
   * "app-key"], 32). Fails if the result is not a valid scalar (probability about 2^-128).
   */
  public static byte[] appK256Key(byte[] rootK256, byte[] appId) {
    Secp256k1.requirePrivateKey(rootK256);
    byte[] key = deriveKey(rootK256, List.of(appId, APP_KEY), Secp256k1.SCALAR_LENGTH);
    if (!Secp256k1.isValidPrivateKey(key)) {
      throw new IllegalStateException("derived secp256k1 scalar is out of range");
    }
    return key;
  }

  /** The App CA key: deriveP256KeyPair(rootCA, [app_id, "app-ca"]) (spec §8.3 item 5). */
  public static KeyPair appCaKeyPair(ECPrivateKey rootCa, byte[] appId) {
    return deriveP256KeyPair(rootCa, List.of(appId, APP_CA));
  }

  /** Everything GetAppKey derives for one app instance (spec §4.1 step 5). */
  public static AppKeys appKeys(
      ECPrivateKey rootCa, byte[] rootK256, byte[] appId, byte[] instanceId) {
    byte[] k256Key = appK256Key(rootK256, appId);
    byte[] k256Signature =
        AppSignatures.signKmsIssued(rootK256, appId, Secp256k1.publicKeyCompressed(k256Key));
    return new AppKeys(
        diskCryptKey(rootCa, appId, instanceId),
        envCryptKey(rootCa, appId),
        k256Key,
        k256Signature);
  }

  /** The GetAppEnvEncryptPubKey answer for {@code timestamp} (Unix seconds; spec §4.3). */
  public static EnvEncryptPubKey envEncryptPubKey(
      ECPrivateKey rootCa, byte[] rootK256, byte[] appId, long timestamp) {
    byte[] publicKey = envEncryptPublicKey(rootCa, appId);
    return new EnvEncryptPubKey(
        publicKey,
        AppSignatures.signEnvPubKey(rootK256, appId, publicKey),
        timestamp,
        AppSignatures.signEnvPubKeyV1(rootK256, appId, timestamp, publicKey));
  }

  static byte[] deriveP256Scalar(ECPrivateKey root, List<byte[]> contextParts) {
    byte[] scalar = deriveKey(P256Keys.scalar(root), contextParts, P256Keys.SCALAR_LENGTH);
    if (!P256Keys.isValidScalar(scalar)) {
      throw new IllegalStateException("derived P-256 scalar is out of range");
    }
    return scalar;
  }

  private static byte[] concat(List<byte[]> parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }

  private static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from the JDK", e);
    }
  }

  static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}
