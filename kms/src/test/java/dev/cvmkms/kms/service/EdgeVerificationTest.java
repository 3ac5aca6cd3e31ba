package dev.cvmkms.kms.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Empty;
import dev.cvmkms.kms.KmsException;
import dev.cvmkms.kms.attestation.MutableClock;
import dev.cvmkms.kms.attestation.dcap.Collateral;
import dev.cvmkms.kms.attestation.dcap.CollateralSource;
import dev.cvmkms.kms.attestation.mock.MockTdx;
import dev.cvmkms.kms.attestation.ratls.RaTlsExtensions;
import dev.cvmkms.kms.attestation.ratls.TestCerts;
import dev.cvmkms.kms.config.BodyLimits;
import dev.cvmkms.kms.rpc.Caller;
import dev.cvmkms.kms.rpc.CryptoPool;
import dev.cvmkms.kms.rpc.PrpcMethod;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Issue #13: only the RPCs that use the caller's identity verify a presented certificate's
 * attestation; GetMeta, GetTempCaCert and GetAppEnvEncryptPubKey ignore it (and never wait on the
 * PCCS for it).
 */
class EdgeVerificationTest {
  static final Instant NOW = Instant.parse("2026-11-21T06:00:00Z");
  private final Vertx vertx = Vertx.vertx();
  private final MockTdx tdx = MockTdx.create(NOW);
  private final AtomicInteger fetches = new AtomicInteger();

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** A collateral source whose every fetch hangs: a frozen PCCS with nothing cached. */
  private final CollateralSource frozen =
      new CollateralSource() {
        @Override
        public CompletionStage<Collateral> fetch(Key key) {
          fetches.incrementAndGet();
          return new CompletableFuture<>();
        }
      };

  private KmsMethods methods() {
    CryptoPool crypto = new CryptoPool(vertx, 2, 60);
    var verifier = new dev.cvmkms.kms.attestation.AttestationVerifier(tdx.dcapVerifier(), frozen);
    return new KmsMethods(
        new CallerAttestation(crypto, Optional.of(verifier), new MutableClock(NOW)),
        line -> Future.succeededFuture(),
        new MutableClock(NOW),
        BodyLimits.defaults());
  }

  private Caller attestedCaller() throws Exception {
    KeyPair kp = TestCerts.p256();
    byte[] rd = RaTlsExtensions.reportData(kp.getPublic().getEncoded());
    X509Certificate cert =
        TestCerts.cert(kp, List.of(RaTlsExtensions.attestationExtension(tdx.attestation(rd))));
    return new Caller(List.of(cert), "127.0.0.1");
  }

  private static Future<Empty> call(PrpcMethod<Empty, Empty> m, Caller c) {
    return m.handler().apply(c, Empty.getDefaultInstance());
  }

  @Test
  void rpcsThatDoNotUseTheCallersIdentity_ignoreItsAttestation() throws Exception {
    KmsMethods t = methods();
    Caller caller = attestedCaller();
    for (String rpc : List.of("GetMeta", "GetTempCaCert", "GetAppEnvEncryptPubKey")) {
      PrpcMethod<Empty, Empty> m =
          rpc.equals("GetMeta")
              ? t.plain(rpc, Empty.getDefaultInstance(), (c, r) -> seen(c))
              : t.audited(rpc, Empty.getDefaultInstance(), (c, r, trail) -> seen(c));
      Empty out =
          call(m, caller).toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
      assertThat(out).isNotNull();
    }
    assertThat(fetches).as("nothing asked the PCCS").hasValue(0);
  }

  @Test
  void getAppKey_verifiesTheAttestation_andFailsClosedWhileCollateralIsUnavailable()
      throws Exception {
    KmsMethods t = methods();
    PrpcMethod<Empty, Empty> m =
        t.audited("GetAppKey", Empty.getDefaultInstance(), (c, r, trail) -> verified(c));
    Future<Empty> f = call(m, attestedCaller());
    // The fetch is pending (the PCCS hangs): the crypto workers are free meanwhile.
    org.awaitility.Awaitility.await().atMost(10, TimeUnit.SECONDS).until(() -> fetches.get() == 1);
    assertThat(f.isComplete()).isFalse();
    assertThat(
            new CryptoPool(vertx, 2, 60)
                .run(() -> "free")
                .toCompletionStage()
                .toCompletableFuture()
                .get(5, TimeUnit.SECONDS))
        .isEqualTo("free");
    assertThat(KmsMethods.VERIFIES_CALLER)
        .containsExactlyInAnyOrder("GetAppKey", "GetKmsKey", "SignCert");
  }

  private static Future<Empty> seen(Caller c) {
    assertThat(c.attestation()).isEmpty();
    return Future.succeededFuture(Empty.getDefaultInstance());
  }

  private static Future<Empty> verified(Caller c) {
    if (c.attestation().isEmpty()) {
      return Future.failedFuture(new KmsException(KmsException.Kind.NOT_ATTESTED, "none"));
    }
    return Future.succeededFuture(Empty.getDefaultInstance());
  }
}
