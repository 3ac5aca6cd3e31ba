package dev.cvmkms.kms.client;

import com.google.protobuf.ByteString;
import com.google.protobuf.Empty;
import dev.cvmkms.kms.KmsException;
import dev.cvmkms.kms.attestation.VerifiedAttestation;
import dev.cvmkms.kms.attestation.mock.MockTdx;
import dev.cvmkms.kms.keys.KeyBootstrap;
import dev.cvmkms.kms.keys.RootKeys;
import dev.cvmkms.kms.ops.HttpsListener;
import dev.cvmkms.kms.ops.TlsIdentity;
import dev.cvmkms.kms.proto.AppKeyResponse;
import dev.cvmkms.kms.proto.GetAppKeyRequest;
import dev.cvmkms.kms.proto.GetKmsKeyRequest;
import dev.cvmkms.kms.proto.GetTempCaCertResponse;
import dev.cvmkms.kms.proto.KmsKeyResponse;
import dev.cvmkms.kms.proto.KmsKeys;
import dev.cvmkms.kms.rpc.Caller;
import dev.cvmkms.kms.rpc.PrpcMethod;
import dev.cvmkms.kms.rpc.PrpcRoutes;
import dev.cvmkms.kms.service.KmsAttestation;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * A source KMS for tests, in-process: real keys (mock-attested RPC certificate), a real HTTPS
 * listener that trusts the temp CA for client certificates, GetTempCaCert, and a GetKmsKey that
 * verifies the caller's RA-TLS certificate with the mock verifier before releasing the keys.
 */
public final class FakeSourceKms {
  public final MockTdx tdx;
  public final KmsAttestation attestation;
  public final RootKeys keys;
  private final HttpsListener listener;
  public volatile X509Certificate lastClientCertificate;
  public volatile VerifiedAttestation lastClientAttestation;
  public volatile String lastVmConfig;

  private FakeSourceKms(
      MockTdx tdx, KmsAttestation attestation, RootKeys keys, HttpsListener listener) {
    this.tdx = tdx;
    this.attestation = attestation;
    this.keys = keys;
    this.listener = listener;
  }

  /** Keys for {@code domain}; mock-attested RPC certificate. */
  public static RootKeys keysFor(KmsAttestation attestation, String domain) throws Exception {
    return new KeyBootstrap(attestation.clock())
        .generate(domain, Optional.of(attestation::attestForCertificate));
  }

  public static KmsAttestation mockAttestation(MockTdx tdx) {
    Clock clock = Clock.systemUTC();
    return new KmsAttestation(tdx, tdx.verifier(clock), clock);
  }

  /** A source serving {@code keys} with the TLS identity {@code identity(keys)}. */
  public static FakeSourceKms start(
      Vertx vertx,
      MockTdx tdx,
      KmsAttestation attestation,
      RootKeys keys,
      Function<RootKeys, TlsIdentity> identity)
      throws Exception {
    FakeSourceKms[] self = new FakeSourceKms[1];
    PrpcRoutes prpc =
        new PrpcRoutes(
            "KMS.",
            List.of(
                PrpcMethod.of(
                    "GetTempCaCert",
                    Empty.getDefaultInstance(),
                    (caller, req) ->
                        Future.succeededFuture(
                            GetTempCaCertResponse.newBuilder()
                                .setTempCaCert(keys.tmpCaCertPem())
                                .setTempCaKey(keys.secretTmpCaKeyPem())
                                .setCaCert(keys.rootCaCertPem())
                                .build())),
                PrpcMethod.of(
                    "GetAppKey",
                    GetAppKeyRequest.getDefaultInstance(),
                    (caller, req) -> self[0].getAppKey(vertx, caller)),
                PrpcMethod.of(
                    "GetKmsKey",
                    GetKmsKeyRequest.getDefaultInstance(),
                    (caller, req) -> self[0].getKmsKey(vertx, caller, req))),
            new SimpleMeterRegistry(),
            null);
    Router router = Router.router(vertx);
    prpc.mount(router);
    HttpsListener listener =
        HttpsListener.start(vertx, "127.0.0.1", 0, identity.apply(keys), false, router)
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    self[0] = new FakeSourceKms(tdx, attestation, keys, listener);
    return self[0];
  }

  /** The normal identity: rpc.key, rpc.crt, client certificates under the temp CA. */
  public static TlsIdentity normalIdentity(RootKeys keys) {
    return new TlsIdentity(keys.secretRpcKeyPem(), keys.rpcCertPem(), keys.tmpCaCertPem());
  }

  private Future<KmsKeyResponse> getKmsKey(Vertx vertx, Caller caller, GetKmsKeyRequest req) {
    if (!caller.hasCertificate()) {
      return Future.failedFuture(
          new KmsException(KmsException.Kind.NOT_ATTESTED, "no client certificate"));
    }
    X509Certificate leaf = caller.certificateChain().get(0);
    return vertx.executeBlocking(
        () -> {
          VerifiedAttestation v =
              attestation.verifier().verifyCertificate(leaf, attestation.clock().instant());
          lastClientCertificate = leaf;
          lastClientAttestation = v;
          lastVmConfig = req.getVmConfig();
          return KmsKeyResponse.newBuilder()
              .setTempCaKey(keys.secretTmpCaKeyPem())
              .addKeys(
                  KmsKeys.newBuilder()
                      .setCaKey(keys.secretRootCaKeyPem())
                      .setK256Key(ByteString.copyFrom(keys.secretK256Scalar())))
              .build();
        },
        false);
  }

  /** A stand-in GetAppKey: the keys are the caller's app id, hashed (enough to tell apps apart). */
  private Future<AppKeyResponse> getAppKey(Vertx vertx, Caller caller) {
    if (!caller.hasCertificate()) {
      return Future.failedFuture(
          new KmsException(KmsException.Kind.NOT_ATTESTED, "no client certificate"));
    }
    X509Certificate leaf = caller.certificateChain().get(0);
    return vertx.executeBlocking(
        () -> {
          VerifiedAttestation v =
              attestation.verifier().verifyCertificate(leaf, attestation.clock().instant());
          lastClientAttestation = v;
          byte[] app = v.appInfo(false, "").appId();
          return AppKeyResponse.newBuilder()
              .setCaCert(keys.rootCaCertPem())
              .setDiskCryptKey(ByteString.copyFrom(dev.cvmkms.kms.attestation.Bytes.sha256(app)))
              .build();
        },
        false);
  }

  public int port() {
    return listener.port();
  }

  public String url(String host) {
    return "https://" + host + ":" + port();
  }

  public void close() throws Exception {
    listener
        .drain(java.time.Duration.ZERO)
        .toCompletionStage()
        .toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
  }
}
