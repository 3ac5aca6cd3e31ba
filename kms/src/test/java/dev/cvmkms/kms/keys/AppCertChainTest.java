package dev.cvmkms.kms.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cvmkms.kms.encoding.Pem;
import dev.cvmkms.kms.keys.csr.CertConfig;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** SignCert's chain, pure: [leaf, App CA, root], the App CA the same on every replica. */
class AppCertChainTest {
  private static final byte[] APP_ID = new byte[20];

  private static CertConfig config(String subject) {
    return new CertConfig(
        Optional.empty(),
        subject,
        List.of(subject),
        true,
        false,
        false,
        false,
        OptionalLong.empty(),
        OptionalLong.empty());
  }

  @Test
  void leafUnderAppCaUnderRoot_andTheAppCaKeyDependsOnlyOnRootKeyAndAppId() throws Exception {
    RootKeys keys = TestKeys.unattested();
    KeyPair subject = EcKeys.generateP256(new SecureRandom());
    List<String> chain =
        AppCertChain.issue(
            keys,
            APP_ID,
            subject.getPublic().getEncoded(),
            config("app.example.com"),
            Optional.empty(),
            Optional.empty(),
            TestKeys.NOW);
    assertThat(chain).hasSize(3);
    X509Certificate leaf = Pem.parseCertificate(chain.get(0));
    X509Certificate appCa = Pem.parseCertificate(chain.get(1));
    assertThat(chain.get(2)).isEqualTo(keys.rootCaCertPem());
    assertThat(leaf.getPublicKey()).isEqualTo(subject.getPublic());
    leaf.verify(appCa.getPublicKey());
    CertificateIssuerTest.assertChainVerifies(appCa, keys.rootCaCertificate());

    // A replica holding the same root key derives the same App CA key.
    RootKeys replica =
        new KeyBootstrap(TestKeys.clockAt(TestKeys.NOW))
            .fromReceivedKeys(
                keys.secretTmpCaKeyPem(),
                keys.secretRootCaKeyPem(),
                keys.secretK256Scalar(),
                "kms2.example.com",
                Optional.empty());
    X509Certificate again =
        Pem.parseCertificate(
            AppCertChain.issue(
                    replica,
                    APP_ID,
                    subject.getPublic().getEncoded(),
                    config("app.example.com"),
                    Optional.empty(),
                    Optional.empty(),
                    TestKeys.NOW)
                .get(1));
    assertThat(again.getPublicKey()).isEqualTo(appCa.getPublicKey());
  }

  @Test
  void aQuoteExtensionWithoutAnAttestationIsRefused() {
    RootKeys keys = TestKeys.unattested();
    CertConfig wantsQuote =
        new CertConfig(
            Optional.empty(),
            "app.example.com",
            List.of(),
            true,
            false,
            true,
            false,
            OptionalLong.empty(),
            OptionalLong.empty());
    assertThatThrownBy(
            () ->
                AppCertChain.issue(
                    keys,
                    APP_ID,
                    EcKeys.generateP256(new SecureRandom()).getPublic().getEncoded(),
                    wantsQuote,
                    Optional.empty(),
                    Optional.empty(),
                    TestKeys.NOW))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ext_quote without an attestation");
  }
}
