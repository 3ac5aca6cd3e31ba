package dev.cvmkms.kms.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.cvmkms.kms.config.TlsEngine;
import dev.cvmkms.kms.keys.CertProfile;
import dev.cvmkms.kms.keys.CertificateIssuer;
import dev.cvmkms.kms.keys.EcKeys;
import dev.cvmkms.kms.keys.KeyBootstrap;
import dev.cvmkms.kms.keys.RootKeys;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The main listener on each TLS engine: the same answers, the caller's certificate (optional at the
 * TLS layer, checked against the temp CA) reaches the handler, and a certificate from another CA is
 * refused. BoringSSL is bundled for linux-x86_64, the platform CI and the image run on, so there it
 * must load.
 */
class HttpsListenerEngineTest {
  private static final RootKeys KEYS = keys();

  private Vertx vertx;
  private HttpsListener listener;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void tearDown() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void boringSslLoadsOnLinuxX8664() {
    assumeThat(System.getProperty("os.name")).isEqualTo("Linux");
    assumeThat(System.getProperty("os.arch")).isIn("amd64", "x86_64");
    assertThat(HttpsListener.openSslAvailable()).isTrue();
  }

  @ParameterizedTest
  @EnumSource(TlsEngine.class)
  void sameAnswers_andTheCallersCertificateReachesTheHandler(TlsEngine engine) throws Exception {
    listen(engine);
    assertThat(get(client(null))).isEqualTo("200 none");
    KeyPair key = EcKeys.generateP256(new SecureRandom());
    X509Certificate mine =
        CertificateIssuer.issue(
            CertProfile.leaf("app-vm-1", List.of(), List.of()),
            key.getPublic().getEncoded(),
            CertificateIssuer.subjectOf(KEYS.tmpCaCertificate()),
            KEYS.secretTmpCaKeyPair().getPrivate(),
            Instant.now());
    assertThat(get(client(new Identity(key, mine)))).startsWith("200 CN=app-vm-1");
  }

  @ParameterizedTest
  @EnumSource(TlsEngine.class)
  void aCertificateFromAnotherCaIsRefused(TlsEngine engine) throws Exception {
    listen(engine);
    KeyPair key = EcKeys.generateP256(new SecureRandom());
    X509Certificate self =
        CertificateIssuer.selfSigned(
            CertProfile.leaf("intruder", List.of(), List.of()), key, Instant.now());
    HttpClient c = client(new Identity(key, self));
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> get(c))
        .isInstanceOf(java.io.IOException.class);
  }

  private void listen(TlsEngine engine) throws Exception {
    Router router = Router.router(vertx);
    router
        .get("/whoami")
        .handler(
            ctx -> {
              String who = "none";
              try {
                List<Certificate> chain = ctx.request().connection().peerCertificates();
                if (chain != null && !chain.isEmpty()) {
                  who = ((X509Certificate) chain.get(0)).getSubjectX500Principal().getName();
                }
              } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
                who = "none";
              }
              ctx.response().end(who);
            });
    ListenerGuard guard =
        new ListenerGuard(
            vertx,
            "rpc",
            dev.cvmkms.kms.config.ListenerLimits.defaults(),
            path -> false,
            new io.micrometer.core.instrument.simple.SimpleMeterRegistry());
    listener =
        HttpsListener.start(
                vertx,
                "127.0.0.1",
                0,
                new TlsIdentity(KEYS.secretRpcKeyPem(), KEYS.rpcCertPem(), KEYS.tmpCaCertPem()),
                false,
                router,
                guard,
                engine)
            .await(10, TimeUnit.SECONDS);
  }

  private String get(HttpClient c) throws Exception {
    HttpResponse<String> r =
        c.send(
            HttpRequest.newBuilder(URI.create("https://localhost:" + listener.port() + "/whoami"))
                .timeout(java.time.Duration.ofSeconds(10))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    return r.statusCode() + " " + r.body();
  }

  private record Identity(KeyPair key, X509Certificate cert) {}

  /**
   * Presents its certificate whatever CAs the server names (the JDK's own key manager would stay
   * silent for one the server does not list, and the refusal would go untested).
   */
  private static final class AlwaysPresent extends X509ExtendedKeyManager {
    private final X509Certificate cert;
    private final KeyPair key;

    AlwaysPresent(X509Certificate cert, KeyPair key) {
      this.cert = cert;
      this.key = key;
    }

    @Override
    public String chooseEngineClientAlias(
        String[] keyType, Principal[] issuers, javax.net.ssl.SSLEngine engine) {
      return "c";
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
      return "c";
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
      return new String[] {"c"};
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
      return new String[0];
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
      return null;
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
      return new X509Certificate[] {cert};
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
      return key.getPrivate();
    }
  }

  /** A client trusting the root CA, presenting {@code id} (none when null). */
  private static HttpClient client(Identity id) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("root", KEYS.rootCaCertificate());
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(
        id == null ? null : new KeyManager[] {new AlwaysPresent(id.cert(), id.key())},
        tmf.getTrustManagers(),
        null);
    return HttpClient.newBuilder().sslContext(ctx).version(HttpClient.Version.HTTP_1_1).build();
  }

  private static RootKeys keys() {
    try {
      return new KeyBootstrap(Clock.systemUTC()).generate("localhost", Optional.empty());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
