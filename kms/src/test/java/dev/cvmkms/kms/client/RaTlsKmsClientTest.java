package dev.cvmkms.kms.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cvmkms.kms.attestation.AttestationProvider;
import dev.cvmkms.kms.attestation.Bytes;
import dev.cvmkms.kms.attestation.mock.MockTdx;
import dev.cvmkms.kms.encoding.Pem;
import dev.cvmkms.kms.keys.CertExtensions;
import dev.cvmkms.kms.keys.CertProfile;
import dev.cvmkms.kms.keys.CertificateIssuer;
import dev.cvmkms.kms.keys.EcKeys;
import dev.cvmkms.kms.keys.ReportData;
import dev.cvmkms.kms.keys.RootKeys;
import dev.cvmkms.kms.ops.TlsIdentity;
import dev.cvmkms.kms.proto.AppKeyResponse;
import dev.cvmkms.kms.proto.GetAppKeyRequest;
import dev.cvmkms.kms.proto.GetKmsKeyRequest;
import dev.cvmkms.kms.proto.KmsKeyResponse;
import dev.cvmkms.kms.rpc.CryptoPool;
import dev.cvmkms.kms.service.KmsAttestation;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The client against an in-process source KMS over real TLS: the server checks and the flow. */
class RaTlsKmsClientTest {
  private static final byte[] APP_ID =
      Arrays.copyOf(Bytes.sha256("app".getBytes(StandardCharsets.UTF_8)), 20);
  private static final byte[] COMPOSE = Bytes.sha256("compose".getBytes(StandardCharsets.UTF_8));
  private static final byte[] INSTANCE =
      Arrays.copyOf(Bytes.sha256("instance".getBytes(StandardCharsets.UTF_8)), 20);

  private static Vertx vertx;
  private static CryptoPool workers;
  private static MockTdx tdx;
  private static KmsAttestation attestation;
  private static RootKeys localhostKeys;
  private FakeSourceKms source;

  @BeforeAll
  static void setUp() throws Exception {
    vertx = Vertx.vertx();
    workers = new CryptoPool(vertx, 2, 60);
    tdx = MockTdx.create(Instant.now());
    attestation = FakeSourceKms.mockAttestation(tdx);
    localhostKeys = FakeSourceKms.keysFor(attestation, "localhost");
  }

  @AfterAll
  static void tearDown() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void stopSource() throws Exception {
    if (source != null) {
      source.close();
    }
  }

  private FakeSourceKms start(RootKeys keys, Function<RootKeys, TlsIdentity> identity)
      throws Exception {
    source = FakeSourceKms.start(vertx, tdx, attestation, keys, identity);
    return source;
  }

  private static AttestationProvider guest() {
    return tdx.guest(APP_ID, COMPOSE, INSTANCE);
  }

  private static RaTlsKmsClient client(
      String url, Optional<X509Certificate> root, boolean requireAttestation) {
    return RaTlsKmsClient.create(
        vertx,
        workers,
        RaTlsKmsClient.Settings.of(
            url,
            root,
            guest(),
            new ServerAttestationPolicy(
                attestation.verifier(), requireAttestation, attestation.clock())));
  }

  private static <T> T await(Future<T> f) throws Exception {
    try {
      return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof Exception cause) {
        throw cause;
      }
      throw e;
    }
  }

  private static KmsKeyResponse getKmsKey(RaTlsKmsClient client) throws Exception {
    try {
      return await(
          client.openAndCall(
              "GetKmsKey",
              GetKmsKeyRequest.newBuilder().setVmConfig("{\"x\":1}").build(),
              KmsKeyResponse.getDefaultInstance()));
    } finally {
      await(client.close());
    }
  }

  /** A leaf for the RPC key under the root with the given SANs and custom extensions. */
  private static TlsIdentity leafIdentity(
      RootKeys keys, List<String> sans, List<CertProfile.CustomExtension> ext) {
    KeyPair rpc = keys.secretRpcKeyPair();
    X509Certificate leaf =
        CertificateIssuer.issue(
            CertProfile.leaf("localhost", sans, ext),
            EcKeys.spkiDer(rpc.getPublic()),
            CertificateIssuer.subjectOf(keys.rootCaCertificate()),
            keys.secretRootCaKeyPair().getPrivate(),
            Instant.now());
    return new TlsIdentity(keys.secretRpcKeyPem(), Pem.certificate(leaf), keys.tmpCaCertPem());
  }

  private static CertProfile.CustomExtension usage(String value) {
    return new CertProfile.CustomExtension(
        CertExtensions.SPECIAL_USAGE, value.getBytes(StandardCharsets.UTF_8));
  }

  private static CertProfile.CustomExtension attestationFor(byte[] spki) {
    return new CertProfile.CustomExtension(
        CertExtensions.ATTESTATION,
        attestation.attestForCertificate(ReportData.forRaTlsCert(spki)));
  }

  @Test
  void unpinned_verifiesAgainstReturnedRoot_andReleasesKeysOverMutualRaTls() throws Exception {
    FakeSourceKms s = start(localhostKeys, FakeSourceKms::normalIdentity);
    RaTlsKmsClient client = client(s.url("localhost") + "/", Optional.empty(), true);
    RaTlsKmsClient.Session session = await(client.open());
    assertThat(session.rootCa()).isEqualTo(localhostKeys.rootCaCertificate());
    assertThat(session.serverCertificate()).isEqualTo(localhostKeys.rpcCertificate());
    assertThat(session.serverAttestation()).isPresent();
    assertThat(session.serverAttestation().get().bootInfo(false, "").appId())
        .isEqualTo(Bytes.hex(tdx.appId()));

    KmsKeyResponse keys =
        await(
            session.call(
                "GetKmsKey",
                GetKmsKeyRequest.newBuilder().setVmConfig("{\"x\":1}").build(),
                KmsKeyResponse.getDefaultInstance()));
    await(client.close());
    assertThat(keys.getKeysCount()).isEqualTo(1);
    assertThat(keys.getKeys(0).getK256Key().toByteArray())
        .isEqualTo(localhostKeys.secretK256Scalar());
    // What the source saw: dstack's RA-TLS client certificate, with the guest's identity in it.
    X509Certificate cert = s.lastClientCertificate;
    assertThat(cert.getSubjectX500Principal().getName()).isEqualTo("CN=RA-TLS TEMP Cert");
    assertThat(cert.getIssuerX500Principal())
        .isEqualTo(localhostKeys.tmpCaCertificate().getSubjectX500Principal());
    assertThat(cert.getSubjectAlternativeNames()).isNull();
    cert.verify(localhostKeys.tmpCaCertificate().getPublicKey());
    assertThat(s.lastClientAttestation.bootInfo(false, "").appId()).isEqualTo(Bytes.hex(APP_ID));
    assertThat(s.lastClientAttestation.bootInfo(false, "").composeHash())
        .isEqualTo(Bytes.hex(COMPOSE));
    assertThat(s.lastClientAttestation.bootInfo(false, "").instanceId())
        .isEqualTo(Bytes.hex(INSTANCE));
    assertThat(s.lastVmConfig).isEqualTo("{\"x\":1}");
  }

  @Test
  void pinnedRoot_thatMatches_isAccepted_byIpLiteralToo() throws Exception {
    FakeSourceKms s = start(localhostKeys, FakeSourceKms::normalIdentity);
    KmsKeyResponse keys =
        getKmsKey(client(s.url("127.0.0.1"), Optional.of(localhostKeys.rootCaCertificate()), true));
    assertThat(keys.getTempCaKey()).isEqualTo(localhostKeys.secretTmpCaKeyPem());
  }

  @Test
  void wrongPinnedRoot_isRefusedBeforeAnythingIsSent() throws Exception {
    FakeSourceKms s = start(localhostKeys, FakeSourceKms::normalIdentity);
    RootKeys other = FakeSourceKms.keysFor(attestation, "localhost");
    assertThatThrownBy(
            () ->
                getKmsKey(client(s.url("localhost"), Optional.of(other.rootCaCertificate()), true)))
        .isInstanceOfSatisfying(
            KmsClientException.class,
            e -> {
              assertThat(e.reason()).isEqualTo(KmsClientException.Reason.SERVER_REJECTED);
              assertThat(e.getMessage()).contains("does not chain to the trusted root");
            });
    assertThat(s.lastClientCertificate).isNull();
  }

  @Test
  void wrongHostname_isRefused() throws Exception {
    RootKeys named = FakeSourceKms.keysFor(attestation, "kms.example.test");
    FakeSourceKms s = start(named, FakeSourceKms::normalIdentity);
    assertThatThrownBy(() -> getKmsKey(client(s.url("127.0.0.1"), Optional.empty(), false)))
        .isInstanceOfSatisfying(
            KmsClientException.class,
            e -> {
              assertThat(e.reason()).isEqualTo(KmsClientException.Reason.SERVER_REJECTED);
              assertThat(e.getMessage()).contains("not valid for host 127.0.0.1");
            });
    assertThat(s.lastClientCertificate).isNull();
  }

  @Test
  void leafWithoutKmsRpcUsage_isRefused() throws Exception {
    byte[] spki = EcKeys.spkiDer(localhostKeys.secretRpcKeyPair().getPublic());
    FakeSourceKms s =
        start(
            localhostKeys,
            k ->
                leafIdentity(
                    k,
                    List.of("localhost", "127.0.0.1"),
                    List.of(usage("app:ca"), attestationFor(spki))));
    assertThatThrownBy(() -> getKmsKey(client(s.url("localhost"), Optional.empty(), false)))
        .isInstanceOfSatisfying(
            KmsClientException.class, e -> assertThat(e.getMessage()).contains("no kms:rpc usage"));
    FakeSourceKms noUsage = s;
    noUsage.close();
    source =
        start(
            localhostKeys,
            k -> leafIdentity(k, List.of("localhost"), List.of(attestationFor(spki))));
    assertThatThrownBy(() -> getKmsKey(client(source.url("localhost"), Optional.empty(), false)))
        .isInstanceOfSatisfying(
            KmsClientException.class, e -> assertThat(e.getMessage()).contains("no kms:rpc usage"));
  }

  @Test
  void attestationBoundToAnotherKey_isRefused() throws Exception {
    byte[] otherSpki = EcKeys.spkiDer(EcKeys.generateP256(new SecureRandom()).getPublic());
    FakeSourceKms s =
        start(
            localhostKeys,
            k ->
                leafIdentity(
                    k, List.of("localhost"), List.of(usage("kms:rpc"), attestationFor(otherSpki))));
    // Refused even by a guest that does not require an attestation: a present one must verify.
    assertThatThrownBy(() -> getKmsKey(client(s.url("localhost"), Optional.empty(), false)))
        .isInstanceOfSatisfying(
            KmsClientException.class,
            e -> {
              assertThat(e.reason()).isEqualTo(KmsClientException.Reason.SERVER_REJECTED);
              assertThat(e.getMessage()).contains("attestation does not verify");
            });
    assertThat(s.lastClientCertificate).isNull();
  }

  @Test
  void missingAttestation_isRefusedWhenRequired_acceptedOtherwise() throws Exception {
    FakeSourceKms s =
        start(localhostKeys, k -> leafIdentity(k, List.of("localhost"), List.of(usage("kms:rpc"))));
    assertThatThrownBy(() -> getKmsKey(client(s.url("localhost"), Optional.empty(), true)))
        .isInstanceOfSatisfying(
            KmsClientException.class,
            e -> assertThat(e.getMessage()).contains("carries no attestation"));
    assertThat(getKmsKey(client(s.url("localhost"), Optional.empty(), false)).getKeysCount())
        .isEqualTo(1);
  }

  @Test
  void serverError_isReportedWithTheMethodAndTheServersMessage() throws Exception {
    FakeSourceKms s = start(localhostKeys, FakeSourceKms::normalIdentity);
    RaTlsKmsClient client = client(s.url("localhost"), Optional.empty(), false);
    assertThatThrownBy(
            () ->
                await(
                    client
                        .openAndCall(
                            "SignCert",
                            GetAppKeyRequest.newBuilder().setApiVersion(1).build(),
                            AppKeyResponse.getDefaultInstance())
                        .eventually(client::close)))
        .isInstanceOfSatisfying(
            KmsClientException.class,
            e -> {
              assertThat(e.reason()).isEqualTo(KmsClientException.Reason.RPC_ERROR);
              assertThat(e.getMessage()).isEqualTo("SignCert: Service not found: SignCert");
            });
  }

  /**
   * "Our clients never retry faster after failures": the RA-TLS client (get-keys, onboarding) does
   * not retry at all. Each failed call made exactly one connection by the time it reported the
   * failure, so N failing calls are N attempts, whatever the server does.
   */
  @Test
  void aFailingServer_seesExactlyOneAttemptPerCall_neverARetry() throws Exception {
    java.util.concurrent.atomic.AtomicInteger accepted =
        new java.util.concurrent.atomic.AtomicInteger();
    ServerSocket resetting = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
    Thread acceptor;
    try {
      acceptor =
          Thread.ofVirtual()
              .start(
                  () -> {
                    while (!resetting.isClosed()) {
                      try (java.net.Socket s = resetting.accept()) {
                        accepted.incrementAndGet();
                        s.setSoLinger(true, 0); // RST: the harshest failure, retryable if any
                      } catch (java.io.IOException e) {
                        return;
                      }
                    }
                  });
      for (int call = 1; call <= 5; call++) {
        RaTlsKmsClient client =
            client("https://127.0.0.1:" + resetting.getLocalPort(), Optional.empty(), false);
        assertThatThrownBy(() -> await(client.open().eventually(client::close)))
            .isInstanceOf(KmsClientException.class);
        assertThat(accepted.get()).isEqualTo(call);
      }
    } finally {
      resetting.close(); // also what ends the acceptor's loop
    }
    acceptor.join(10_000);
  }

  @Test
  void silentServer_failsWithinTheDeadline() throws Exception {
    try (ServerSocket silent = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      RaTlsKmsClient client =
          RaTlsKmsClient.create(
              vertx,
              workers,
              new RaTlsKmsClient.Settings(
                  KmsUrls.prpcBase("https://127.0.0.1:" + silent.getLocalPort()),
                  Optional.empty(),
                  guest(),
                  new ServerAttestationPolicy(attestation.verifier(), false, attestation.clock()),
                  Duration.ofSeconds(5),
                  Duration.ofMillis(800),
                  1 << 20));
      long t0 = System.nanoTime();
      assertThatThrownBy(() -> await(client.open().eventually(client::close)))
          .isInstanceOfSatisfying(
              KmsClientException.class,
              e -> assertThat(e.reason()).isEqualTo(KmsClientException.Reason.UNAVAILABLE));
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
    }
  }

  @Test
  void urls_areNormalisedAsDstackDoes() {
    assertThat(KmsUrls.prpcBase("https://kms:8000").toString()).isEqualTo("https://kms:8000/prpc");
    assertThat(KmsUrls.prpcBase("https://kms:8000//").toString())
        .isEqualTo("https://kms:8000/prpc");
    assertThat(KmsUrls.prpcBase("https://kms/prpc/").toString()).isEqualTo("https://kms/prpc");
    assertThatThrownBy(() -> KmsUrls.prpcBase("http://kms:8000"))
        .hasMessageContaining("must use https");
    assertThatThrownBy(() -> KmsUrls.prpcBase("")).hasMessageContaining("empty");
    assertThatThrownBy(() -> KmsUrls.prpcBase("https://kms:8000/?a=b"))
        .isInstanceOf(KmsClientException.class);
  }
}
