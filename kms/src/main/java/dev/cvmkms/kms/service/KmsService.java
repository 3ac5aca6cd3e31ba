package dev.cvmkms.kms.service;

import com.google.protobuf.ByteString;
import com.google.protobuf.Empty;
import dev.cvmkms.kms.KmsException;
import dev.cvmkms.kms.auth.AuthInfo;
import dev.cvmkms.kms.auth.AuthPolicy;
import dev.cvmkms.kms.rpc.Caller;
import dev.cvmkms.kms.rpc.proto.GetMetaResponse;
import dev.cvmkms.kms.rpc.proto.GetTempCaCertResponse;
import io.vertx.core.Future;
import java.util.Objects;

/**
 * The {@code KMS} proto service: one method per RPC, each a short list of steps. Public material is
 * prepared at start-up, so GetMeta and GetTempCaCert do no I/O beyond what the auth policy does
 * (and GetMeta's auth info comes from a cache).
 */
public final class KmsService {
  private final PublicMaterial material;
  private final AuthPolicy auth;
  private final SelfCheck selfCheck;
  private final GetTempCaCertResponse tempCa;
  private final ByteString k256Pubkey;

  public KmsService(PublicMaterial material, AuthPolicy auth, SelfCheck selfCheck) {
    this.material = Objects.requireNonNull(material, "material");
    this.auth = Objects.requireNonNull(auth, "auth");
    this.selfCheck = Objects.requireNonNull(selfCheck, "selfCheck");
    this.tempCa =
        GetTempCaCertResponse.newBuilder()
            .setTempCaCert(material.tmpCaCertPem())
            .setTempCaKey(material.tmpCaKeyPem())
            .setCaCert(material.rootCaPem())
            .build();
    this.k256Pubkey = ByteString.copyFrom(material.k256CompressedPubkey());
  }

  /** Public probe: never self-authorizes and never waits on the chain once metadata is cached. */
  public Future<GetMetaResponse> getMeta(Caller caller, Empty request) {
    return auth.info()
        .recover(
            e ->
                Future.failedFuture(
                    e instanceof KmsException ke
                        ? ke
                        : new KmsException(
                            KmsException.Kind.UPSTREAM_UNAVAILABLE,
                            "failed to get auth info: " + e.getMessage(),
                            e)))
        .map(this::meta);
  }

  /** The temp CA (key included, by design) and the root CA, after the self check. */
  public Future<GetTempCaCertResponse> getTempCaCert(Caller caller, Empty request) {
    return selfCheck.requireSelfAllowed().map(ok -> tempCa);
  }

  private GetMetaResponse meta(AuthInfo info) {
    GetMetaResponse.Builder b =
        GetMetaResponse.newBuilder()
            .setCaCert(material.rootCaPem())
            .setAllowAnyUpgrade(info.isDev())
            .setK256Pubkey(k256Pubkey)
            .setIsDev(info.isDev());
    material.bootstrapInfo().ifPresent(b::setBootstrapInfo);
    info.gatewayAppId().ifPresent(b::setGatewayAppId);
    info.kmsContractAddress().ifPresent(b::setKmsContractAddress);
    info.chainId().ifPresent(b::setChainId);
    info.appAuthImplementation().ifPresent(b::setAppAuthImplementation);
    return b.build();
  }
}
