package dev.cvmkms.kms.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cvmkms.kms.encoding.Pem;
import java.io.ByteArrayInputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;

/**
 * The PEMs work as a dstack guest uses them (spec §14.1): the server presents rpc.key/rpc.crt, the
 * client trusts only root-ca.crt and checks the hostname against the SAN, and the server accepts a
 * client certificate issued by the temp CA.
 */
class TlsHandshakeTest {
  private static final int TIMEOUT_MS = 10_000;

  private final RootKeys keys = TestKeys.unattested();

  @Test
  void guestStyleClient_verifiesRpcCertAgainstRootAndHostname_withTempCaClientCert()
      throws Exception {
    KeyPair clientKey = EcKeys.generateP256(new SecureRandom());
    X509Certificate clientCert =
        CertificateIssuer.issue(
            CertProfile.leaf("RA-TLS TEMP Cert", List.of(), List.of()),
            clientKey.getPublic().getEncoded(),
            CertificateIssuer.subjectOf(keys.tmpCaCertificate()),
            keys.secretTmpCaKeyPair().getPrivate(),
            TestKeys.NOW);

    SSLContext server =
        context(
            pemKey(keys.secretRpcKeyPem()), parse(keys.rpcCertPem()), parse(keys.tmpCaCertPem()));
    SSLContext client = context(clientKey.getPrivate(), clientCert, parse(keys.rootCaCertPem()));

    X509Certificate[] seenByServer = handshake(server, client, TestKeys.DOMAIN);
    assertThat(seenByServer).containsExactly(clientCert);
  }

  @Test
  void guestStyleClient_rejectsAHostnameOutsideTheSan() throws Exception {
    SSLContext server =
        context(
            pemKey(keys.secretRpcKeyPem()), parse(keys.rpcCertPem()), parse(keys.tmpCaCertPem()));
    SSLContext client = context(null, null, parse(keys.rootCaCertPem()));

    assertThatThrownBy(() -> handshake(server, client, "other.example.com"))
        .hasRootCauseInstanceOf(java.security.cert.CertificateException.class);
  }

  @Test
  void client_withoutTheRootCa_rejectsTheServer() throws Exception {
    RootKeys stranger = TestKeys.generate(TestKeys.DOMAIN, Optional.empty());
    SSLContext server =
        context(
            pemKey(keys.secretRpcKeyPem()), parse(keys.rpcCertPem()), parse(keys.tmpCaCertPem()));
    SSLContext client = context(null, null, parse(stranger.rootCaCertPem()));

    assertThatThrownBy(() -> handshake(server, client, TestKeys.DOMAIN))
        .isInstanceOf(SSLHandshakeException.class);
  }

  /** One TLS 1.3 handshake over 127.0.0.1; returns the client chain the server saw. */
  private static X509Certificate[] handshake(SSLContext server, SSLContext client, String host)
      throws Exception {
    try (SSLServerSocket listener =
        (SSLServerSocket)
            server
                .getServerSocketFactory()
                .createServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      listener.setWantClientAuth(true);
      listener.setSoTimeout(TIMEOUT_MS);
      CompletableFuture<X509Certificate[]> accepted =
          CompletableFuture.supplyAsync(
              () -> {
                try (SSLSocket s = (SSLSocket) listener.accept()) {
                  s.setSoTimeout(TIMEOUT_MS);
                  s.startHandshake();
                  s.getOutputStream().write('k');
                  s.getOutputStream().flush();
                  try {
                    return (X509Certificate[]) s.getSession().getPeerCertificates();
                  } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
                    return new X509Certificate[0];
                  }
                } catch (Exception e) {
                  return new X509Certificate[0];
                }
              });
      try (Socket plain = new Socket()) {
        plain.connect(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), listener.getLocalPort()),
            TIMEOUT_MS);
        plain.setSoTimeout(TIMEOUT_MS);
        try (SSLSocket tls =
            (SSLSocket)
                client
                    .getSocketFactory()
                    .createSocket(plain, host, listener.getLocalPort(), true)) {
          var params = tls.getSSLParameters();
          params.setEndpointIdentificationAlgorithm("HTTPS");
          tls.setSSLParameters(params);
          tls.startHandshake();
          assertThat(tls.getInputStream().read()).isEqualTo('k');
        }
      }
      return accepted.get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
    }
  }

  private static SSLContext context(PrivateKey key, X509Certificate cert, X509Certificate trusted)
      throws Exception {
    var keyStore = java.security.KeyStore.getInstance("PKCS12");
    keyStore.load(null, null);
    if (key != null) {
      keyStore.setKeyEntry("me", key, new char[0], new Certificate[] {cert});
    }
    var trust = java.security.KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("anchor", trusted);
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(keyStore, new char[0]);
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext context = SSLContext.getInstance("TLSv1.3");
    context.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    return context;
  }

  private static PrivateKey pemKey(String pem) throws Exception {
    return KeyFactory.getInstance("EC")
        .generatePrivate(new PKCS8EncodedKeySpec(Pem.decode(pem, Pem.PRIVATE_KEY)));
  }

  private static X509Certificate parse(String pem) throws Exception {
    return (X509Certificate)
        CertificateFactory.getInstance("X.509")
            .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
  }
}
