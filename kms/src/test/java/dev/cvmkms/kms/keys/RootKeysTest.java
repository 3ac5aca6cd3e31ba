package dev.cvmkms.kms.keys;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cvmkms.kms.encoding.Pem;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.HexFormat;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;

class RootKeysTest {
  private final RootKeys keys = TestKeys.unattested();

  @Test
  void toString_showsPublicFactsAndRedactsSecrets() {
    String text = keys.toString();
    assertThat(text)
        .contains("REDACTED")
        .contains(TestKeys.DOMAIN)
        .contains(HexFormat.of().formatHex(keys.k256CompressedPublicKey()));
    assertThat(text).doesNotContain(HexFormat.of().formatHex(keys.secretK256Scalar()));
    for (String pem :
        new String[] {
          keys.secretRootCaKeyPem(), keys.secretTmpCaKeyPem(), keys.secretRpcKeyPem()
        }) {
      assertThat(text).doesNotContain(pem.lines().toList().get(1));
    }
    assertThat(keys.rootCa().toString()).contains("REDACTED").doesNotContain("PRIVATE");
  }

  @Test
  void secretAccessors_returnCopies() {
    byte[] scalar = keys.secretK256Scalar();
    scalar[0] ^= 1;
    assertThat(keys.secretK256Scalar()).isNotEqualTo(scalar);
    byte[] pub = keys.k256CompressedPublicKey();
    pub[0] ^= 1;
    assertThat(keys.k256CompressedPublicKey()).isNotEqualTo(pub);
  }

  @Test
  void tlsPems_loadIntoAJdkServerContextWithTempCaTrust() throws Exception {
    var privateKey =
        KeyFactory.getInstance("EC")
            .generatePrivate(
                new PKCS8EncodedKeySpec(Pem.decode(keys.secretRpcKeyPem(), Pem.PRIVATE_KEY)));
    Certificate rpcCert = parse(keys.rpcCertPem());
    var keyStore = java.security.KeyStore.getInstance("PKCS12");
    keyStore.load(null, null);
    keyStore.setKeyEntry("rpc", privateKey, new char[0], new Certificate[] {rpcCert});
    var trust = java.security.KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("tmp-ca", parse(keys.tmpCaCertPem()));

    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(keyStore, new char[0]);
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);

    var serverKeyManager = (javax.net.ssl.X509KeyManager) kmf.getKeyManagers()[0];
    assertThat(serverKeyManager.chooseServerAlias("EC", null, null)).isNotNull();
    assertThat(context.createSSLEngine().getSupportedCipherSuites()).isNotEmpty();
  }

  private static Certificate parse(String pem) throws Exception {
    return CertificateFactory.getInstance("X.509")
        .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
  }
}
