package dev.cvmkms.kms.keys.derivation;

/**
 * The secret part of a GetAppKey answer (spec §4.1 step 5). Byte arrays are copied in and out;
 * {@link #toString()} never shows key bytes. Equality is identity (do not compare keys with it).
 *
 * @param diskCryptKey 32 bytes; the guest uses its hex as the LUKS passphrase
 * @param envCryptKey 32 bytes, an unclamped X25519 secret
 * @param k256Key the app's 32-byte secp256k1 scalar
 * @param k256Signature 65 bytes, the root K256 key's signature over the app's public key
 */
@SuppressWarnings("ArrayRecordComponent") // secret keys: equality is identity on purpose
public record AppKeys(
    byte[] diskCryptKey, byte[] envCryptKey, byte[] k256Key, byte[] k256Signature) {

  public AppKeys {
    diskCryptKey = diskCryptKey.clone();
    envCryptKey = envCryptKey.clone();
    k256Key = k256Key.clone();
    k256Signature = k256Signature.clone();
  }

  @Override
  public byte[] diskCryptKey() {
    return diskCryptKey.clone();
  }

  @Override
  public byte[] envCryptKey() {
    return envCryptKey.clone();
  }

  @Override
  public byte[] k256Key() {
    return k256Key.clone();
  }

  @Override
  public byte[] k256Signature() {
    return k256Signature.clone();
  }

  @Override
  public boolean equals(Object other) {
    return this == other;
  }

  @Override
  public int hashCode() {
    return System.identityHashCode(this);
  }

  @Override
  public String toString() {
    return "AppKeys[REDACTED]";
  }
}
