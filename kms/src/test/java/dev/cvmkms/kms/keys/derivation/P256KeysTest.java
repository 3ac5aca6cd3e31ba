package dev.cvmkms.kms.keys.derivation;

import static dev.cvmkms.kms.keys.derivation.Vectors.hex;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import org.junit.jupiter.api.Test;

class P256KeysTest {

  @Test
  void canonicalPkcs8_reproducesTheUpstreamRootKeyDerByteForByte() {
    assertThat(P256Keys.canonicalPkcs8(Vectors.rootCa())).isEqualTo(hex("root_ca_pkcs8"));
  }

  @Test
  void canonicalPkcs8_isReadableByTheJdkAsTheSameKey() throws Exception {
    byte[] der = P256Keys.canonicalPkcs8(hex("app_ca_scalar"));
    ECPrivateKey parsed =
        (ECPrivateKey) KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(der));

    assertThat(der).hasSize(P256Keys.CANONICAL_PKCS8_LENGTH);
    assertThat(P256Keys.scalar(parsed)).isEqualTo(hex("app_ca_scalar"));
  }

  @Test
  void keyPair_publicKeyIsTheRootSpkiOfTheBootstrapVector() {
    KeyPair root = P256Keys.keyPair(hex("root_ca_scalar"));

    assertThat(root.getPublic().getEncoded()).isEqualTo(hex("root_ca_spki"));
  }

  @Test
  void rootSpki_givesTheSpecRaTlsReportData() throws Exception {
    // Cross-checks the SPKI vector against §9.5's report_data = SHA-512("ratls-cert:" ‖ SPKI).
    MessageDigest sha512 = MessageDigest.getInstance("SHA-512");
    sha512.update("ratls-cert:".getBytes(US_ASCII));

    assertThat(sha512.digest(hex("root_ca_spki"))).isEqualTo(hex("root_spki_ratls_report_data"));
  }

  @Test
  void uncompressedPublicKey_isTheTailOfTheSpki() {
    byte[] spki = hex("app_ca_spki");
    byte[] point = P256Keys.uncompressedPublicKey(hex("app_ca_scalar"));

    assertThat(point).hasSize(65).startsWith(0x04);
    assertThat(java.util.Arrays.copyOfRange(spki, spki.length - 65, spki.length)).isEqualTo(point);
  }

  @Test
  void scalarValidity() {
    assertThat(P256Keys.isValidScalar(new byte[32])).isFalse();
    assertThat(P256Keys.isValidScalar(new byte[31])).isFalse();
    assertThat(P256Keys.isValidScalar(hex("root_ca_scalar"))).isTrue();
    byte[] order = org.bouncycastle.util.BigIntegers.asUnsignedByteArray(32, P256Keys.CURVE.getN());
    assertThat(P256Keys.isValidScalar(order)).isFalse();
  }
}
