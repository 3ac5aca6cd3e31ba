package dev.cvmkms.kms.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Empty;
import dev.cvmkms.kms.KmsException;
import dev.cvmkms.kms.attestation.BootInfo;
import dev.cvmkms.kms.attestation.Bytes;
import dev.cvmkms.kms.attestation.mock.MockTdx;
import dev.cvmkms.kms.attestation.ratls.VersionedAttestation;
import dev.cvmkms.kms.auth.AuthInfo;
import dev.cvmkms.kms.auth.AuthPolicy;
import dev.cvmkms.kms.auth.BootDecision;
import dev.cvmkms.kms.client.FakeSourceKms;
import dev.cvmkms.kms.keys.CertExtensions;
import dev.cvmkms.kms.keys.FileKeyStore;
import dev.cvmkms.kms.keys.KeyBootstrap;
import dev.cvmkms.kms.keys.KeyStore;
import dev.cvmkms.kms.keys.ReportData;
import dev.cvmkms.kms.keys.RootKeys;
import dev.cvmkms.kms.proto.AttestationInfoResponse;
import dev.cvmkms.kms.proto.BootstrapRequest;
import dev.cvmkms.kms.proto.BootstrapResponse;
import dev.cvmkms.kms.proto.OnboardRequest;
import dev.cvmkms.kms.proto.OnboardResponse;
import dev.cvmkms.kms.rpc.Caller;
import dev.cvmkms.kms.rpc.CryptoPool;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

public class OnboardServiceTest {
  private static final Caller CALLER = Caller.anonymous("127.0.0.1:1");
  private static Vertx vertx;
  private static CryptoPool crypto;
  private static MockTdx tdx;
  private static KmsAttestation attestation;

  @TempDir Path dir;
  private FileKeyStore store;
  private FakePolicy policy;
  private OnboardService service;

  /** A policy whose KMS decision the test sets; records what it was asked. */
  public static final class FakePolicy implements AuthPolicy {
    volatile boolean allowKms = true;
    volatile boolean infoFails;
    final List<BootInfo> kmsChecks = new CopyOnWriteArrayList<>();

    @Override
    public Future<AuthInfo> info() {
      if (infoFails) {
        return Future.failedFuture(new RuntimeException("auth api down"));
      }
      return Future.succeededFuture(
          new AuthInfo(
              false,
              Optional.of("any"),
              Optional.of("0x1234"),
              Optional.of(1L),
              Optional.empty(),
              Optional.of("https://rpc.example")));
    }

    @Override
    public Future<BootDecision> checkApp(BootInfo boot) {
      return Future.failedFuture("not used");
    }

    @Override
    public Future<BootDecision> checkKms(BootInfo boot) {
      kmsChecks.add(boot);
      return Future.succeededFuture(
          new BootDecision(allowKms, allowKms ? "" : "mr not registered", ""));
    }
  }

  @BeforeAll
  static void startVertx() {
    vertx = Vertx.vertx();
    crypto = new CryptoPool(vertx, 2, 60);
    tdx = MockTdx.create(Instant.now());
    attestation = FakeSourceKms.mockAttestation(tdx);
  }

  @AfterAll
  static void stopVertx() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @BeforeEach
  void newService() {
    store = new FileKeyStore(dir);
    policy = new FakePolicy();
    service = service(store, policy);
  }

  private static OnboardService service(KeyStore store, AuthPolicy policy) {
    return new OnboardService(
        vertx,
        crypto,
        store,
        new KeyBootstrap(Clock.systemUTC()),
        policy,
        attestation,
        Optional.of(attestation::attestForCertificate),
        "site-a",
        Duration.ofSeconds(20));
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

  private BootstrapResponse bootstrap(String domain) throws Exception {
    return await(
        service.bootstrap(CALLER, BootstrapRequest.newBuilder().setDomain(domain).build()));
  }

  private OnboardResponse onboard(String url, String domain) throws Exception {
    return await(
        service.onboard(
            CALLER, OnboardRequest.newBuilder().setSourceUrl(url).setDomain(domain).build()));
  }

  private static void assertKmsError(
      org.assertj.core.api.ThrowableAssert.ThrowingCallable call,
      KmsException.Kind kind,
      String message) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            KmsException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(kind);
              assertThat(e.getMessage()).contains(message);
            });
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "-kms.example.com",
        "kms-.example.com",
        "kms..example.com",
        "kms_example.com",
        "kms.exämple.com"
      })
  void badDomains_areRefused_byBootstrapAndOnboard_beforeAnythingHappens(String domain) {
    assertKmsError(() -> bootstrap(domain), KmsException.Kind.INVALID_REQUEST, "domain");
    assertKmsError(
        () -> onboard("https://127.0.0.1:1", domain), KmsException.Kind.INVALID_REQUEST, "domain");
    assertThat(policy.kmsChecks).isEmpty();
    assertThat(dir.toFile().list()).isEmpty();
  }

  @Test
  void tooLongDomain_isRefused() {
    assertKmsError(
        () -> bootstrap("a".repeat(254)), KmsException.Kind.INVALID_REQUEST, "longer than 253");
  }

  @Test
  void bootstrap_selfAuthorizes_writesInfoAndKeys_andReturnsAttestedPublicKeys() throws Exception {
    BootstrapResponse r = bootstrap("127.0.0.1"); // IP literals are valid domains (§5.2)
    RootKeys keys = store.load();
    assertThat(r.getCaPubkey().toByteArray()).isEqualTo(keys.rootCaSpkiDer()).hasSize(91);
    assertThat(r.getK256Pubkey().toByteArray()).isEqualTo(keys.k256CompressedPublicKey());
    assertThat(keys.rpcDomain()).isEqualTo("127.0.0.1");
    assertThat(store.bootstrapInfo()).isPresent();
    assertThat(store.bootstrapInfo().get().attestation())
        .isEqualTo(r.getAttestation().toByteArray());
    // The attestation is the full (unstripped) one over the §8.4 report data.
    VersionedAttestation att = VersionedAttestation.decode(r.getAttestation().toByteArray());
    assertThat(att.reportData())
        .isEqualTo(ReportData.forBootstrap(keys.rootCaSpkiDer(), keys.k256CompressedPublicKey()));
    attestation.verifier().verify(att, att.reportData(), Instant.now());
    // Self-authorized once, with this KMS's own identity; the RPC certificate is attested.
    assertThat(policy.kmsChecks).hasSize(1);
    assertThat(policy.kmsChecks.get(0).appId()).isEqualTo(Bytes.hex(tdx.appId()));
    assertThat(CertExtensions.content(keys.rpcCertificate(), CertExtensions.ATTESTATION))
        .isPresent();
  }

  @Test
  void secondBootstrap_andOnboardAfterBootstrap_areRefused_keysUnchanged() throws Exception {
    BootstrapResponse first = bootstrap("localhost");
    assertKmsError(
        () -> bootstrap("localhost"),
        KmsException.Kind.INVALID_REQUEST,
        "KMS has already been bootstrapped");
    assertKmsError(
        () -> onboard("https://127.0.0.1:1", "localhost"),
        KmsException.Kind.INVALID_REQUEST,
        "KMS has already been onboarded");
    assertThat(store.load().k256CompressedPublicKey())
        .isEqualTo(first.getK256Pubkey().toByteArray());
  }

  @Test
  void bootstrap_deniedByPolicy_writesNothing() {
    policy.allowKms = false;
    assertKmsError(
        () -> bootstrap("localhost"),
        KmsException.Kind.DENIED,
        "KMS is not allowed to bootstrap: mr not registered");
    assertThat(dir.toFile().list()).isEmpty();
  }

  @Test
  void concurrentBootstraps_areSerialised_oneWins() throws Exception {
    List<Future<BootstrapResponse>> all = new java.util.ArrayList<>();
    for (int i = 0; i < 3; i++) {
      all.add(
          service.bootstrap(CALLER, BootstrapRequest.newBuilder().setDomain("localhost").build()));
    }
    await(Future.join(all).otherwiseEmpty());
    assertThat(all.stream().filter(Future::succeeded).count()).isEqualTo(1);
    assertThat(all.stream().filter(Future::failed).map(f -> f.cause().getMessage()))
        .allMatch(m -> m.contains("already been bootstrapped"));
  }

  @Test
  void finish_isRefusedWithoutKeys_thenCompletesAfterBootstrap() throws Exception {
    assertKmsError(
        () -> await(service.finish(CALLER, Empty.getDefaultInstance())),
        KmsException.Kind.INVALID_REQUEST,
        "nothing to finish");
    assertThat(service.finished().isComplete()).isFalse();
    bootstrap("localhost");
    assertThat(await(service.finish(CALLER, Empty.getDefaultInstance())))
        .isEqualTo(Empty.getDefaultInstance());
    assertThat(service.finished().succeeded()).isTrue();
  }

  @Test
  void getAttestationInfo_reportsThisCvmsMeasurements_andToleratesAuthOutage() throws Exception {
    AttestationInfoResponse info =
        await(service.getAttestationInfo(CALLER, Empty.getDefaultInstance()));
    byte[] zero = new byte[64];
    var expected =
        attestation
            .verifier()
            .verify(tdx.attestation(zero), zero, Instant.now())
            .bootInfo(false, tdx.vmConfig());
    assertThat(Bytes.hex(info.getMrAggregated().toByteArray())).isEqualTo(expected.mrAggregated());
    assertThat(Bytes.hex(info.getOsImageHash().toByteArray())).isEqualTo(expected.osImageHash());
    assertThat(Bytes.hex(info.getDeviceId().toByteArray())).isEqualTo(expected.deviceId());
    assertThat(Bytes.sha256(info.getPpid().toByteArray()))
        .isEqualTo(info.getDeviceId().toByteArray());
    assertThat(info.getTeeVariant()).isEqualTo("dstack-tdx");
    assertThat(info.getSiteName()).isEqualTo("site-a");
    assertThat(info.getKmsContractAddress()).isEqualTo("0x1234");
    assertThat(info.getEthRpcUrl()).isEqualTo("https://rpc.example");

    policy.infoFails = true;
    AttestationInfoResponse degraded =
        await(service.getAttestationInfo(CALLER, Empty.getDefaultInstance()));
    assertThat(degraded.getMrAggregated()).isEqualTo(info.getMrAggregated());
    assertThat(degraded.getKmsContractAddress()).isEmpty();
  }

  @Test
  void onboard_pullsTheSourcesKeys_checksTheSource_andStoresWithoutBootstrapInfo()
      throws Exception {
    RootKeys sourceKeys = FakeSourceKms.keysFor(attestation, "localhost");
    FakeSourceKms source =
        FakeSourceKms.start(vertx, tdx, attestation, sourceKeys, FakeSourceKms::normalIdentity);
    try {
      OnboardResponse r = onboard(source.url("localhost") + "/", "replica.localhost");
      RootKeys mine = store.load();
      assertThat(r.getK256Pubkey().toByteArray()).isEqualTo(sourceKeys.k256CompressedPublicKey());
      assertThat(mine.rootCaSpkiDer()).isEqualTo(sourceKeys.rootCaSpkiDer());
      assertThat(mine.secretK256Scalar()).isEqualTo(sourceKeys.secretK256Scalar());
      assertThat(mine.secretTmpCaKeyPair().getPublic())
          .isEqualTo(sourceKeys.secretTmpCaKeyPair().getPublic());
      // Our own RPC key and domain, attested; no bootstrap-info.json on a replica.
      assertThat(mine.secretRpcKeyPair().getPublic())
          .isNotEqualTo(sourceKeys.secretRpcKeyPair().getPublic());
      assertThat(mine.rpcDomain()).isEqualTo("replica.localhost");
      mine.rpcCertificate().verify(sourceKeys.rootCaPublicKey());
      assertThat(Files.exists(dir.resolve("bootstrap-info.json"))).isFalse();
      // The source was checked as a KMS under our policy, and saw our RA-TLS certificate.
      assertThat(policy.kmsChecks).hasSize(1);
      assertThat(policy.kmsChecks.get(0).mrAggregated()).isNotEmpty();
      assertThat(source.lastClientAttestation).isNotNull();
      assertThat(source.lastVmConfig).isEqualTo(tdx.vmConfig());
    } finally {
      source.close();
    }
  }

  @Test
  void onboard_fromASourceOurPolicyDenies_storesNothing_andNeverAsksForKeys() throws Exception {
    RootKeys sourceKeys = FakeSourceKms.keysFor(attestation, "localhost");
    FakeSourceKms source =
        FakeSourceKms.start(vertx, tdx, attestation, sourceKeys, FakeSourceKms::normalIdentity);
    policy.allowKms = false;
    try {
      assertKmsError(
          () -> onboard(source.url("localhost"), "localhost"),
          KmsException.Kind.DENIED,
          "Source KMS is not allowed for onboarding: mr not registered");
      assertThat(dir.toFile().list()).isEmpty();
      assertThat(source.lastClientCertificate).isNull();
    } finally {
      source.close();
    }
  }

  @Test
  void onboard_fromASourceWithoutAttestation_isRefused() throws Exception {
    RootKeys unattested =
        new KeyBootstrap(Clock.systemUTC()).generate("localhost", Optional.empty());
    FakeSourceKms source =
        FakeSourceKms.start(vertx, tdx, attestation, unattested, FakeSourceKms::normalIdentity);
    try {
      assertKmsError(
          () -> onboard(source.url("localhost"), "localhost"),
          KmsException.Kind.DENIED,
          "carries no attestation");
      assertThat(policy.kmsChecks).isEmpty();
      assertThat(dir.toFile().list()).isEmpty();
    } finally {
      source.close();
    }
  }

  @Test
  void onboard_sourceUnreachable_orPlainHttp_failsClearly() {
    assertKmsError(
        () -> onboard("http://127.0.0.1:1", "localhost"),
        KmsException.Kind.INVALID_REQUEST,
        "must use https");
    assertKmsError(
        () -> onboard("https://127.0.0.1:1", "localhost"),
        KmsException.Kind.UPSTREAM_UNAVAILABLE,
        "cannot reach the KMS");
  }
}
