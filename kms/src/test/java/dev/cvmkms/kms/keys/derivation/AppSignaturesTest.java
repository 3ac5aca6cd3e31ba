package dev.cvmkms.kms.keys.derivation;

import static dev.cvmkms.kms.keys.derivation.Vectors.hex;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class AppSignaturesTest {
  private final byte[] appId = hex("app_id");

  @Test
  void kmsIssuedDigest_vector() {
    assertThat(AppSignatures.kmsIssuedDigest(appId, hex("app_k256_pub")))
        .isEqualTo(hex("kms_issued_digest"));
  }

  @Test
  void envPubKeyDigest_vectors() {
    assertThat(AppSignatures.envPubKeyDigest(appId, hex("env_public_key")))
        .isEqualTo(hex("env_sig_digest_legacy"));
    assertThat(AppSignatures.envPubKeyDigest(hex("sdk_app_id"), hex("sdk_env_public_key")))
        .isEqualTo(hex("sdk_env_digest"));
  }

  @Test
  void envPubKeyDigestV1_vector_withBigEndianTimestamp() {
    long timestamp = Long.parseLong(Vectors.string("env_sig_timestamp"));

    assertThat(AppSignatures.envPubKeyDigestV1(appId, timestamp, hex("env_public_key")))
        .isEqualTo(hex("env_sig_digest_v1"));
    assertThat(
            AppSignatures.envPubKeyDigestV1(
                appId, Long.reverseBytes(timestamp), hex("env_public_key")))
        .isNotEqualTo(hex("env_sig_digest_v1"));
  }

  @Test
  void signEnvPubKey_recoversTheRootK256Key() {
    byte[] signature = AppSignatures.signEnvPubKey(hex("root_k256"), appId, hex("env_public_key"));

    assertThat(Secp256k1.recoverPublicKey(hex("env_sig_digest_legacy"), signature))
        .hasValueSatisfying(pub -> assertThat(pub).isEqualTo(hex("root_k256_pub")));
  }

  @Test
  void kmsIssuedDigest_requiresTheCompressedKey() {
    assertThatThrownBy(
            () ->
                AppSignatures.kmsIssuedDigest(
                    appId, Secp256k1.publicKeyUncompressed(hex("app_k256_key"))))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void negativeTimestamp_isRejected() {
    assertThatThrownBy(() -> AppSignatures.envPubKeyDigestV1(appId, -1, hex("env_public_key")))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
