package dev.cvmkms.kms.keys.derivation;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * A GetAppEnvEncryptPubKey answer (spec §4.3). Public data: the app's X25519 env-encryption key and
 * the root K256 key's signatures over it, legacy and timestamped.
 *
 * @param publicKey 32-byte X25519 public key
 * @param signature 65 bytes over {@link AppSignatures#envPubKeyDigest}
 * @param timestamp Unix seconds covered by {@code signatureV1}
 * @param signatureV1 65 bytes over {@link AppSignatures#envPubKeyDigestV1}
 */
@SuppressWarnings("ArrayRecordComponent") // equals/hashCode below compare the array contents
public record EnvEncryptPubKey(
    byte[] publicKey, byte[] signature, long timestamp, byte[] signatureV1) {

  public EnvEncryptPubKey {
    publicKey = publicKey.clone();
    signature = signature.clone();
    signatureV1 = signatureV1.clone();
  }

  @Override
  public byte[] publicKey() {
    return publicKey.clone();
  }

  @Override
  public byte[] signature() {
    return signature.clone();
  }

  @Override
  public byte[] signatureV1() {
    return signatureV1.clone();
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof EnvEncryptPubKey o
        && Arrays.equals(publicKey, o.publicKey)
        && Arrays.equals(signature, o.signature)
        && timestamp == o.timestamp
        && Arrays.equals(signatureV1, o.signatureV1);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(publicKey) * 31 + Long.hashCode(timestamp);
  }

  @Override
  public String toString() {
    return "EnvEncryptPubKey[publicKey="
        + HexFormat.of().formatHex(publicKey)
        + ", timestamp="
        + timestamp
        + "]";
  }
}
