package dev.cvmkms.kms.service;

import com.google.protobuf.ByteString;
import com.google.protobuf.Empty;
import dev.cvmkms.kms.KmsException;
import dev.cvmkms.kms.attestation.AttestationException;
import dev.cvmkms.kms.attestation.VerifiedAttestation;
import dev.cvmkms.kms.auth.AuthInfo;
import dev.cvmkms.kms.auth.AuthPolicy;
import dev.cvmkms.kms.encoding.Pem;
import dev.cvmkms.kms.keys.AppCertChain;
import dev.cvmkms.kms.keys.AppInfoExtension;
import dev.cvmkms.kms.keys.RootKeys;
import dev.cvmkms.kms.keys.csr.AttestedCsr;
import dev.cvmkms.kms.keys.csr.CertConfig;
import dev.cvmkms.kms.keys.csr.CertSigningRequest;
import dev.cvmkms.kms.keys.csr.CsrException;
import dev.cvmkms.kms.keys.csr.ScaleCsr;
import dev.cvmkms.kms.keys.derivation.AppKeys;
import dev.cvmkms.kms.keys.derivation.EnvEncryptPubKey;
import dev.cvmkms.kms.keys.derivation.KeyDerivation;
import dev.cvmkms.kms.keys.derivation.P256Keys;
import dev.cvmkms.kms.proto.AppId;
import dev.cvmkms.kms.proto.AppKeyResponse;
import dev.cvmkms.kms.proto.GetAppKeyRequest;
import dev.cvmkms.kms.proto.GetKmsKeyRequest;
import dev.cvmkms.kms.proto.GetMetaResponse;
import dev.cvmkms.kms.proto.GetTempCaCertResponse;
import dev.cvmkms.kms.proto.KmsKeyResponse;
import dev.cvmkms.kms.proto.KmsKeys;
import dev.cvmkms.kms.proto.PublicKeyResponse;
import dev.cvmkms.kms.proto.SignCertRequest;
import dev.cvmkms.kms.proto.SignCertResponse;
import dev.cvmkms.kms.rpc.Caller;
import io.vertx.core.Future;
import java.security.interfaces.ECPrivateKey;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The {@code KMS} proto service: one method per RPC, each a short list of steps (spec §4). Public
 * material is prepared at start-up, so GetMeta and GetTempCaCert do no I/O beyond what the auth
 * policy does (and GetMeta's auth info comes from a cache). The trusted RPCs receive a caller the
 * edge ({@link CallerAttestation}) already verified, and an {@link AuditTrail} to fill in; CPU work
 * (derivation, signing, CSR and quote verification) runs on the crypto pool.
 */
public final class KmsService {
  static final String APP_NOT_ALLOWED = "App not allowed: ";
  static final String NO_ATTESTATION = "No attestation provided";

  private final PublicMaterial material;
  private final AuthPolicy auth;
  private final SelfCheck selfCheck;
  // null: public RPCs only (tests of GetMeta/GetTempCaCert)
  private final @Nullable KeyRelease release;
  private final GetTempCaCertResponse tempCa;
  private final ByteString k256Pubkey;

  /** A service answering only GetMeta and GetTempCaCert. */
  public KmsService(PublicMaterial material, AuthPolicy auth, SelfCheck selfCheck) {
    this(material, auth, selfCheck, null);
  }

  /** The full service. */
  public KmsService(
      PublicMaterial material, AuthPolicy auth, SelfCheck selfCheck, @Nullable KeyRelease release) {
    this.material = Objects.requireNonNull(material, "material");
    this.auth = Objects.requireNonNull(auth, "auth");
    this.selfCheck = Objects.requireNonNull(selfCheck, "selfCheck");
    this.release = release;
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

  // ---- trusted RPCs ----

  /** GetAppKey (spec §4.1): the app's disk, env and k256 keys, for an attested, allowed app. */
  public Future<AppKeyResponse> getAppKey(
      Caller caller, GetAppKeyRequest request, AuditTrail trail) {
    KeyRelease r = requireRelease();
    if (Integer.toUnsignedLong(request.getApiVersion()) > 1) {
      return Future.failedFuture(
          KmsException.invalid(
              "Unsupported API version: " + Integer.toUnsignedString(request.getApiVersion())));
    }
    return selfCheck
        .requireSelfAllowed()
        .compose(v -> attested(caller).recover(e -> prefixed(APP_NOT_ALLOWED, e)))
        .compose(
            att ->
                r.authorization()
                    .authorize(att, false, false, request.getVmConfig(), trail)
                    .recover(e -> prefixed(APP_NOT_ALLOWED, e)))
        .compose(boot -> r.crypto().run(() -> appKeyResponse(r.keys(), boot)));
  }

  /** GetKmsKey (spec §4.2): the root keys, for an attested KMS replica the policy allows. */
  public Future<KmsKeyResponse> getKmsKey(
      Caller caller, GetKmsKeyRequest request, AuditTrail trail) {
    KeyRelease r = requireRelease();
    return selfCheck
        .requireSelfAllowed()
        .compose(v -> attested(caller))
        .compose(att -> r.authorization().authorize(att, true, false, request.getVmConfig(), trail))
        .compose(boot -> r.crypto().run(() -> kmsKeyResponse(r.keys())));
  }

  /** GetAppEnvEncryptPubKey (spec §4.3): public, but still after the self check. */
  public Future<PublicKeyResponse> getAppEnvEncryptPubKey(
      Caller caller, AppId request, AuditTrail trail) {
    KeyRelease r = requireRelease();
    byte[] appId = request.getAppId().toByteArray();
    trail.identifyApp(appId);
    return selfCheck
        .requireSelfAllowed()
        .compose(
            v -> {
              if (appId.length != 20) {
                return Future.failedFuture(KmsException.invalid("app_id must be 20 bytes"));
              }
              long now = r.clock().instant().getEpochSecond();
              return r.crypto().run(() -> envPubKeyResponse(r.keys(), appId, now));
            });
  }

  /** SignCert (spec §4.6): an app leaf under the app's CA, for a CSR whose attestation passes. */
  public Future<SignCertResponse> signCert(
      Caller caller, SignCertRequest request, AuditTrail trail) {
    KeyRelease r = requireRelease();
    return selfCheck
        .requireSelfAllowed()
        .compose(v -> r.crypto().run(() -> parsedCsr(request)))
        .compose(parsed -> verifiedCsr(r, parsed))
        .compose(
            csr ->
                r.authorization()
                    .authorize(csr.attestation(), false, true, request.getVmConfig(), trail)
                    .compose(boot -> r.crypto().run(() -> signedChain(r, csr, boot))));
  }

  private KeyRelease requireRelease() {
    if (release == null) {
      throw new KmsException(KmsException.Kind.INTERNAL, "key release is not configured");
    }
    return release;
  }

  /** (E): the attestation the edge verified, or {@code No attestation provided}. */
  private static Future<VerifiedAttestation> attested(Caller caller) {
    return caller
        .attestation()
        .map(Future::succeededFuture)
        .orElseGet(
            () ->
                Future.failedFuture(
                    new KmsException(KmsException.Kind.NOT_ATTESTED, NO_ATTESTATION)));
  }

  private static <T> Future<T> prefixed(String prefix, Throwable e) {
    if (e instanceof KmsException k && k.kind() != KmsException.Kind.INTERNAL) {
      return Future.failedFuture(new KmsException(k.kind(), prefix + k.getMessage(), k));
    }
    return Future.failedFuture(e);
  }

  private static AppKeyResponse appKeyResponse(RootKeys keys, AuthorizedBoot boot) {
    AppKeys k =
        KeyDerivation.appKeys(
            rootCaKey(keys), keys.secretK256Scalar(), boot.appId(), boot.instanceId());
    return AppKeyResponse.newBuilder()
        .setCaCert(keys.rootCaCertPem())
        .setDiskCryptKey(ByteString.copyFrom(k.diskCryptKey()))
        .setEnvCryptKey(ByteString.copyFrom(k.envCryptKey()))
        .setK256Key(ByteString.copyFrom(k.k256Key()))
        .setK256Signature(ByteString.copyFrom(k.k256Signature()))
        .setTproxyAppId(boot.gatewayAppId())
        .setGatewayAppId(boot.gatewayAppId())
        .setOsImageHash(ByteString.copyFrom(HexFormat.of().parseHex(boot.boot().osImageHash())))
        .build();
  }

  private static KmsKeyResponse kmsKeyResponse(RootKeys keys) {
    // ring (rcgen) reads the 138-byte PKCS#8 with the public key; the stored PEM may be another
    // form.
    String rootCaKey = Pem.encode(Pem.PRIVATE_KEY, P256Keys.canonicalPkcs8(rootCaKey(keys)));
    return KmsKeyResponse.newBuilder()
        .setTempCaKey(keys.secretTmpCaKeyPem())
        .addKeys(
            KmsKeys.newBuilder()
                .setCaKey(rootCaKey)
                .setK256Key(ByteString.copyFrom(keys.secretK256Scalar())))
        .build();
  }

  private static PublicKeyResponse envPubKeyResponse(RootKeys keys, byte[] appId, long now) {
    EnvEncryptPubKey k =
        KeyDerivation.envEncryptPubKey(rootCaKey(keys), keys.secretK256Scalar(), appId, now);
    return PublicKeyResponse.newBuilder()
        .setPublicKey(ByteString.copyFrom(k.publicKey()))
        .setSignature(ByteString.copyFrom(k.signature()))
        .setTimestamp(k.timestamp())
        .setSignatureV1(ByteString.copyFrom(k.signatureV1()))
        .build();
  }

  private static AttestedCsr.Parsed parsedCsr(SignCertRequest request) {
    CertSigningRequest csr;
    try {
      csr =
          ScaleCsr.decodeAndVerify(
              request.getApiVersion(),
              request.getCsr().toByteArray(),
              request.getSignature().toByteArray());
    } catch (CsrException e) {
      throw KmsException.invalid(e.getMessage());
    }
    try {
      return AttestedCsr.parse(csr);
    } catch (AttestationException e) {
      throw KmsException.invalid("Failed to parse csr: " + e.getMessage());
    }
  }

  /**
   * Verifies the CSR's attestation against its own key; the crypto worker is released while
   * collateral is fetched.
   */
  private static Future<AttestedCsr.Verified> verifiedCsr(KeyRelease r, AttestedCsr.Parsed p) {
    if (r.verifier().isEmpty()) {
      return Future.failedFuture(
          csrError(
              new AttestationException(
                  AttestationException.Reason.UNSUPPORTED,
                  "this KMS has no attestation verifier configured")));
    }
    io.vertx.core.Context ctx = io.vertx.core.Vertx.currentContext();
    java.util.concurrent.Executor onCrypto =
        task ->
            r.crypto()
                .run(
                    () -> {
                      task.run();
                      return null;
                    });
    var stage = AttestedCsr.verify(r.verifier().get(), p, r.clock().instant(), onCrypto);
    Future<AttestedCsr.Verified> f =
        ctx == null ? Future.fromCompletionStage(stage) : Future.fromCompletionStage(stage, ctx);
    return f.recover(
        e -> {
          Throwable t =
              e instanceof java.util.concurrent.CompletionException && e.getCause() != null
                  ? e.getCause()
                  : e;
          return Future.failedFuture(t instanceof AttestationException a ? csrError(a) : t);
        });
  }

  private static KmsException csrError(AttestationException e) {
    return new KmsException(
        e.reason() == AttestationException.Reason.COLLATERAL_UNAVAILABLE
            ? KmsException.Kind.UPSTREAM_UNAVAILABLE
            : KmsException.Kind.NOT_ATTESTED,
        "Quote verification failed: " + e.publicMessage(),
        e);
  }

  private static SignCertResponse signedChain(
      KeyRelease r, AttestedCsr.Verified verified, AuthorizedBoot boot) {
    CertConfig config = verified.csr().config();
    VerifiedAttestation att = verified.attestation();
    // As dstack's sign_csr: app info with the runtime RTMR3 and the embedded vm_config.
    Optional<byte[]> appInfo =
        config.extAppInfo()
            ? Optional.of(AppInfoExtension.encode(att.appInfo(false, "")))
            : Optional.empty();
    Optional<byte[]> quote =
        config.extQuote() ? Optional.of(att.attestation().stripped().encode()) : Optional.empty();
    try {
      return SignCertResponse.newBuilder()
          .addAllCertificateChain(
              AppCertChain.issue(
                  r.keys(),
                  boot.appId(),
                  verified.csr().pubkey(),
                  config,
                  appInfo,
                  quote,
                  r.clock().instant()))
          .build();
    } catch (IllegalArgumentException e) {
      throw KmsException.invalid("Failed to sign certificate: " + e.getMessage());
    }
  }

  private static ECPrivateKey rootCaKey(RootKeys keys) {
    return (ECPrivateKey) keys.secretRootCaKeyPair().getPrivate();
  }
}
