package dev.cvmkms.kms.service;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.cvmkms.autheth.testing.BlockedThreadWarnings;
import dev.cvmkms.kms.attestation.mock.MockTdx;
import dev.cvmkms.kms.attestation.ratls.RaTlsExtensions;
import dev.cvmkms.kms.attestation.ratls.VersionedAttestation;
import dev.cvmkms.kms.client.ImageVerifier;
import dev.cvmkms.kms.config.BodyLimits;
import dev.cvmkms.kms.encoding.Pem;
import dev.cvmkms.kms.keys.CertExtensions;
import dev.cvmkms.kms.keys.CertProfile;
import dev.cvmkms.kms.keys.CertificateIssuer;
import dev.cvmkms.kms.keys.EcKeys;
import dev.cvmkms.kms.keys.RootKeys;
import dev.cvmkms.kms.keys.TestKeys;
import dev.cvmkms.kms.ops.HttpsListener;
import dev.cvmkms.kms.ops.TlsIdentity;
import dev.cvmkms.kms.proto.BootstrapResponse;
import dev.cvmkms.kms.rpc.CryptoPool;
import dev.cvmkms.kms.rpc.PrpcRoutes;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.ext.web.Router;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.UnaryOperator;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.slf4j.LoggerFactory;

/**
 * A KMS's main listener as KmsRuntime wires it (edge, audit, the six RPCs over real HTTPS with
 * optional client certificates), with a fake policy, a MockTdx attestation stack and a strict
 * blocked-thread checker; plus RA-TLS clients made the way guests make them.
 */
final class AppKeyServer implements AutoCloseable {
  private static final String CHECKER = "io.vertx.core.impl.BlockedThreadChecker";

  final Instant now = Instant.now();
  final MockTdx guest = new MockTdx(MockTdx.defaultSeed(), now, 1);
  final RootKeys keys = TestKeys.generate("localhost", Optional.empty());
  final FakePolicy policy = new FakePolicy();
  final Vertx vertx;
  final CryptoPool crypto;
  final Path auditPath;
  final FileAuditLog audit;
  final KmsService kms;
  final HttpsListener listener;
  final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final ListAppender<ILoggingEvent> blocked = new ListAppender<>();

  AppKeyServer(Path auditFile, ImageVerifier images, UnaryOperator<AuditLog> auditWrapper)
      throws Exception {
    blocked.start();
    ((Logger) LoggerFactory.getLogger(CHECKER)).addAppender(blocked);
    vertx =
        Vertx.vertx(
            new VertxOptions()
                .setBlockedThreadCheckInterval(50)
                .setBlockedThreadCheckIntervalUnit(TimeUnit.MILLISECONDS)
                .setMaxEventLoopExecuteTime(500)
                .setMaxEventLoopExecuteTimeUnit(TimeUnit.MILLISECONDS)
                .setWarningExceptionTime(500)
                .setWarningExceptionTimeUnit(TimeUnit.MILLISECONDS));
    crypto = new CryptoPool(vertx, 2, 60);
    Clock clock = Clock.systemUTC();
    auditPath = auditFile;
    audit = new FileAuditLog(vertx, auditFile);
    kms =
        new KmsService(
            new PublicMaterial(
                keys.rootCaCertPem(),
                keys.k256CompressedPublicKey(),
                keys.tmpCaCertPem(),
                keys.secretTmpCaKeyPem(),
                Optional.<BootstrapResponse>empty()),
            policy,
            SelfCheck.disabled(),
            new KeyRelease(
                keys,
                crypto,
                new AppAuthorization(policy, images, crypto, false, false),
                Optional.of(guest.verifier()),
                clock));
    KmsMethods methods =
        new KmsMethods(
            new CallerAttestation(crypto, Optional.of(guest.verifier()), clock),
            auditWrapper.apply(audit),
            clock,
            BodyLimits.defaults());
    PrpcRoutes routes = new PrpcRoutes("KMS.", methods.table(kms), registry, "test");
    Router router = Router.router(vertx);
    routes.mount(router);
    listener =
        await(
            HttpsListener.start(
                vertx,
                "127.0.0.1",
                0,
                new TlsIdentity(keys.secretRpcKeyPem(), keys.rpcCertPem(), keys.tmpCaCertPem()),
                false,
                router));
  }

  static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  /** A guest's RA-TLS client: a fresh key, a cert from the temp CA carrying {@code attestation}. */
  Client raTlsClient(KeyPair key, VersionedAttestation attestation) throws Exception {
    return client(
        key,
        List.of(
            new CertProfile.CustomExtension(
                CertExtensions.ATTESTATION, attestation.stripped().encode())));
  }

  /** The honest case: the attestation binds the client's own key. */
  Client honestClient() throws Exception {
    KeyPair key = EcKeys.generateP256(new SecureRandom());
    return raTlsClient(key, attestationFor(key));
  }

  VersionedAttestation attestationFor(KeyPair key) {
    return guest.attestation(RaTlsExtensions.reportData(key.getPublic().getEncoded()));
  }

  Client client(KeyPair key, List<CertProfile.CustomExtension> extensions) throws Exception {
    X509Certificate cert =
        CertificateIssuer.issue(
            CertProfile.leaf("RA-TLS TEMP Cert", List.of(), extensions),
            key.getPublic().getEncoded(),
            CertificateIssuer.subjectOf(keys.tmpCaCertificate()),
            keys.secretTmpCaKeyPair().getPrivate(),
            now);
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    ks.setKeyEntry("client", key.getPrivate(), new char[0], new X509Certificate[] {cert});
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, new char[0]);
    return new Client(sslContext(kmf), port());
  }

  /** A client that presents no certificate. */
  Client anonymousClient() throws Exception {
    return new Client(sslContext(null), port());
  }

  private SSLContext sslContext(KeyManagerFactory kmf) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("root", Pem.parseCertificate(keys.rootCaCertPem()));
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    return ctx;
  }

  int port() {
    return listener.port();
  }

  /** Closes everything and fails if an event loop was reported blocked meanwhile. */
  @Override
  public void close() throws ExecutionException, TimeoutException {
    awaitClosed(audit.close());
    awaitClosed(vertx.close());
    ((Logger) LoggerFactory.getLogger(CHECKER)).detachAppender(blocked);
    // Counted by cause: bounded work waiting for a CPU on a starved machine is not a blocking call.
    assertThat(blocked.list)
        .filteredOn(e -> !BlockedThreadWarnings.isSchedulingDelay(e))
        .as("blocked event loop warnings")
        .extracting(ILoggingEvent::getFormattedMessage)
        .isEmpty();
  }

  /** Waits for a close; an interrupt stops the waiting (kept set), not the closing. */
  private static void awaitClosed(Future<Void> closing)
      throws ExecutionException, TimeoutException {
    try {
      closing.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** A pRPC JSON client over HTTPS, trusting only the root CA, as guests do. */
  static final class Client {
    final HttpClient http;
    final int port;

    Client(SSLContext ssl, int port) {
      this.http =
          HttpClient.newBuilder()
              .sslContext(ssl)
              .version(HttpClient.Version.HTTP_1_1)
              .connectTimeout(Duration.ofSeconds(10))
              .build();
      this.port = port;
    }

    HttpResponse<String> post(String method, String json) throws Exception {
      HttpRequest request =
          HttpRequest.newBuilder(
                  URI.create("https://127.0.0.1:" + port + "/prpc/" + method + "?json"))
              .timeout(Duration.ofSeconds(30))
              .header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofString(json))
              .build();
      return http.send(request, HttpResponse.BodyHandlers.ofString());
    }
  }
}
