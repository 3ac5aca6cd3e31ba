package dev.cvmkms.kms.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cvmkms.kms.KmsException;
import dev.cvmkms.kms.attestation.BootInfo;
import dev.cvmkms.kms.attestation.VerifiedAttestation;
import dev.cvmkms.kms.attestation.mock.MockTdx;
import dev.cvmkms.kms.client.ImageVerifier;
import dev.cvmkms.kms.keys.RootKeys;
import dev.cvmkms.kms.keys.TestKeys;
import dev.cvmkms.kms.proto.AppId;
import dev.cvmkms.kms.proto.GetAppKeyRequest;
import dev.cvmkms.kms.proto.GetKmsKeyRequest;
import dev.cvmkms.kms.proto.SignCertRequest;
import dev.cvmkms.kms.rpc.Caller;
import dev.cvmkms.kms.rpc.CryptoPool;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Step order (spec §4): version check, then the self check before anything else; gate (D). */
class KeyReleaseOrderTest {
  private final Vertx vertx = Vertx.vertx();
  private final CryptoPool crypto = new CryptoPool(vertx, 1, 10);
  private final RootKeys keys = TestKeys.unattested();
  private final FakePolicy policy = new FakePolicy();
  private final MockTdx guest = MockTdx.create(Instant.now());

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private KmsService service(SelfCheck self) {
    return new KmsService(
        new PublicMaterial(
            keys.rootCaCertPem(),
            keys.k256CompressedPublicKey(),
            keys.tmpCaCertPem(),
            keys.secretTmpCaKeyPem(),
            Optional.empty()),
        policy,
        self,
        new KeyRelease(
            keys,
            crypto,
            new AppAuthorization(policy, ImageVerifier.disabled(), crypto, false, false),
            Optional.of(guest.verifier()),
            Clock.systemUTC()));
  }

  private static String failure(Future<?> f) throws Exception {
    try {
      f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      return ((KmsException) e.getCause()).publicMessage();
    }
    throw new AssertionError("expected a failure");
  }

  private static AuditTrail trail() {
    return new AuditTrail("t", "127.0.0.1:1", Instant.now());
  }

  @Test
  void selfCheckRunsFirst_forEveryTrustedRpc() throws Exception {
    SelfCheck denied =
        () ->
            Future.failedFuture(
                new KmsException(
                    KmsException.Kind.DENIED,
                    "KMS self authorization failed: KMS is not allowed: revoked"));
    KmsService kms = service(denied);
    Caller anonymous = Caller.anonymous("127.0.0.1:1");
    String expected = "KMS self authorization failed: KMS is not allowed: revoked";

    assertThat(failure(kms.getAppKey(anonymous, GetAppKeyRequest.getDefaultInstance(), trail())))
        .isEqualTo(expected);
    assertThat(failure(kms.getKmsKey(anonymous, GetKmsKeyRequest.getDefaultInstance(), trail())))
        .isEqualTo(expected);
    assertThat(failure(kms.signCert(anonymous, SignCertRequest.getDefaultInstance(), trail())))
        .isEqualTo(expected);
    assertThat(failure(kms.getAppEnvEncryptPubKey(anonymous, AppId.getDefaultInstance(), trail())))
        .isEqualTo(expected);
    assertThat(policy.appChecks).isEmpty();
    assertThat(policy.kmsChecks).isEmpty();
  }

  @Test
  void unsupportedApiVersion_isCheckedBeforeTheSelfCheck() throws Exception {
    KmsService kms = service(() -> Future.failedFuture(new AssertionError("must not run")));
    assertThat(
            failure(
                kms.getAppKey(
                    Caller.anonymous("x"),
                    GetAppKeyRequest.newBuilder().setApiVersion(-1).build(),
                    trail())))
        .isEqualTo("Unsupported API version: 4294967295");
  }

  @Test
  void keyReleaseGate_refusesSevSnpAndNitroUnlessEnabled_andPassesTdx() {
    AppAuthorization off =
        new AppAuthorization(policy, ImageVerifier.disabled(), crypto, false, false);
    AppAuthorization on =
        new AppAuthorization(policy, ImageVerifier.disabled(), crypto, true, true);

    assertThatThrownBy(() -> off.requireKeyReleaseAllowed(boot("dstack-amd-sev-snp")))
        .hasMessage("amd sev-snp key release is not enabled");
    assertThatThrownBy(() -> off.requireKeyReleaseAllowed(boot("dstack-aws-nitro-tpm")))
        .hasMessage("aws nitro tpm key release is not enabled");
    off.requireKeyReleaseAllowed(boot("dstack-tdx"));
    on.requireKeyReleaseAllowed(boot("dstack-amd-sev-snp"));
    on.requireKeyReleaseAllowed(boot("dstack-aws-nitro-tpm"));
  }

  @Test
  void callerAttestation_needsTheCertificateItCameFrom() {
    byte[] rd = new byte[64];
    VerifiedAttestation va = guest.verifier().verify(guest.attestation(rd), rd, Instant.now());
    assertThatThrownBy(() -> new Caller(List.of(), "x", Optional.of(va)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(Caller.anonymous("x").attestation()).isEmpty();
  }

  private static BootInfo boot(String tee) {
    return new BootInfo(tee, "", "", "", "", "", "", "", "", "UpToDate", List.of());
  }
}
