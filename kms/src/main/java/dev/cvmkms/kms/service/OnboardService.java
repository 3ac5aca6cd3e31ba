package dev.cvmkms.kms.service;

import com.google.protobuf.ByteString;
import com.google.protobuf.Empty;
import dev.cvmkms.kms.KmsException;
import dev.cvmkms.kms.attestation.AttestationException;
import dev.cvmkms.kms.attestation.BootInfo;
import dev.cvmkms.kms.attestation.VerifiedAttestation;
import dev.cvmkms.kms.attestation.eventlog.AppInfo;
import dev.cvmkms.kms.attestation.ratls.VersionedAttestation;
import dev.cvmkms.kms.auth.AuthInfo;
import dev.cvmkms.kms.auth.AuthPolicy;
import dev.cvmkms.kms.client.KmsClientException;
import dev.cvmkms.kms.client.KmsUrls;
import dev.cvmkms.kms.client.RaTlsKmsClient;
import dev.cvmkms.kms.client.ServerAttestationPolicy;
import dev.cvmkms.kms.config.BodyLimits;
import dev.cvmkms.kms.keys.BootstrapInfo;
import dev.cvmkms.kms.keys.Domains;
import dev.cvmkms.kms.keys.KeyAttester;
import dev.cvmkms.kms.keys.KeyBootstrap;
import dev.cvmkms.kms.keys.KeyStore;
import dev.cvmkms.kms.keys.RootKeys;
import dev.cvmkms.kms.proto.AttestationInfoResponse;
import dev.cvmkms.kms.proto.BootstrapRequest;
import dev.cvmkms.kms.proto.BootstrapResponse;
import dev.cvmkms.kms.proto.GetKmsKeyRequest;
import dev.cvmkms.kms.proto.KmsKeyResponse;
import dev.cvmkms.kms.proto.KmsKeys;
import dev.cvmkms.kms.proto.OnboardRequest;
import dev.cvmkms.kms.proto.OnboardResponse;
import dev.cvmkms.kms.rpc.Caller;
import dev.cvmkms.kms.rpc.CryptoPool;
import dev.cvmkms.kms.rpc.PrpcMethod;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.net.URI;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code Onboard} proto service (spec §5), served only while {@code cert_dir} holds no keys:
 * Bootstrap makes new keys, Onboard pulls them from a running KMS over mutual RA-TLS (§11),
 * GetAttestationInfo shows the measurements an operator must allow first, Finish ends the phase.
 * Bootstrap, Onboard and Finish are serialised by one lock (dstack's {@code bootstrap_lock}); all
 * file, key and attestation work runs on the crypto pool.
 */
public final class OnboardService {
  private static final Logger LOG = LoggerFactory.getLogger(OnboardService.class);

  private final Vertx vertx;
  private final CryptoPool crypto;
  private final KeyStore store;
  private final KeyBootstrap keyBootstrap;
  private final AuthPolicy auth;
  private final KmsAttestation attestation;
  private final Optional<KeyAttester> rpcCertAttester;
  private final String siteName;
  private final Duration sourceDeadline;
  private final Promise<Void> finished = Promise.promise();
  private Future<?> lockTail = Future.succeededFuture();

  /**
   * @param attestation this KMS's own attestation stack: for self-authorization, the key
   *     attestation, the RA-TLS client certificate and verifying the source KMS
   * @param rpcCertAttester present when {@code core.attest_rpc_cert} is on
   * @param sourceDeadline the total time an Onboard may spend on the source KMS
   */
  public OnboardService(
      Vertx vertx,
      CryptoPool crypto,
      KeyStore store,
      KeyBootstrap keyBootstrap,
      AuthPolicy auth,
      KmsAttestation attestation,
      Optional<KeyAttester> rpcCertAttester,
      String siteName,
      Duration sourceDeadline) {
    this.vertx = Objects.requireNonNull(vertx, "vertx");
    this.crypto = Objects.requireNonNull(crypto, "crypto");
    this.store = Objects.requireNonNull(store, "store");
    this.keyBootstrap = Objects.requireNonNull(keyBootstrap, "keyBootstrap");
    this.auth = Objects.requireNonNull(auth, "auth");
    this.attestation = Objects.requireNonNull(attestation, "attestation");
    this.rpcCertAttester = Objects.requireNonNull(rpcCertAttester, "rpcCertAttester");
    this.siteName = Objects.requireNonNull(siteName, "siteName");
    this.sourceDeadline = Objects.requireNonNull(sourceDeadline, "sourceDeadline");
  }

  /** The four methods, with the configured body limits. */
  public List<PrpcMethod<?, ?>> methods(BodyLimits limits) {
    return List.of(
        new PrpcMethod<>(
            "Bootstrap",
            BootstrapRequest.getDefaultInstance(),
            this::bootstrap,
            limits.limitFor("Bootstrap")),
        new PrpcMethod<>(
            "Onboard",
            OnboardRequest.getDefaultInstance(),
            this::onboard,
            limits.limitFor("Onboard")),
        new PrpcMethod<>(
            "GetAttestationInfo",
            Empty.getDefaultInstance(),
            this::getAttestationInfo,
            limits.limitFor("GetAttestationInfo")),
        new PrpcMethod<>(
            "Finish", Empty.getDefaultInstance(), this::finish, limits.limitFor("Finish")));
  }

  /** Completes once Finish succeeded: the onboarding listener may stop. */
  public Future<Void> finished() {
    return finished.future();
  }

  /** §5.3: new keys for {@code domain}, attested, bootstrap-info.json written first. */
  public Future<BootstrapResponse> bootstrap(Caller caller, BootstrapRequest request) {
    String domain = request.getDomain();
    try {
      Domains.validate(domain);
    } catch (KmsException e) {
      return Future.failedFuture(e);
    }
    return exclusive(
        () ->
            crypto
                .run(
                    () -> {
                      if (store.hasBootstrapInfo() || store.hasAnyKey()) {
                        throw KmsException.invalid("KMS has already been bootstrapped");
                      }
                      return null;
                    })
                .compose(v -> requireSelfAllowed())
                .compose(
                    v ->
                        crypto.run(
                            () -> {
                              long t0 = System.nanoTime();
                              BootstrapInfo info =
                                  keyBootstrap.bootstrap(
                                      domain, rpcCertAttester, attestation::attest, store);
                              LOG.info(
                                  "bootstrapped new keys for domain {} in {} ms (k256 {})",
                                  domain,
                                  (System.nanoTime() - t0) / 1_000_000,
                                  HexFormat.of().formatHex(info.k256Pubkey()));
                              return BootstrapResponse.newBuilder()
                                  .setCaPubkey(ByteString.copyFrom(info.caPubkey()))
                                  .setK256Pubkey(ByteString.copyFrom(info.k256Pubkey()))
                                  .setAttestation(ByteString.copyFrom(info.attestation()))
                                  .build();
                            })));
  }

  /** §5.4 and §11: the keys of the KMS at {@code source_url}, with a new RPC key for us. */
  public Future<OnboardResponse> onboard(Caller caller, OnboardRequest request) {
    String domain = request.getDomain();
    URI source;
    try {
      Domains.validate(domain);
      source = KmsUrls.prpcBase(request.getSourceUrl());
    } catch (KmsException e) {
      return Future.failedFuture(e);
    } catch (KmsClientException e) {
      return Future.failedFuture(KmsException.invalid("source_url: " + e.getMessage()));
    }
    return exclusive(
        () ->
            crypto
                .run(
                    () -> {
                      if (store.hasAnyKey()) {
                        throw KmsException.invalid("KMS has already been onboarded");
                      }
                      return VersionedAttestation.decode(attestation.attest(new byte[64])).config();
                    })
                .compose(ownVmConfig -> pullKeys(source, domain, ownVmConfig)));
  }

  private Future<OnboardResponse> pullKeys(URI source, String domain, String ownVmConfig) {
    RaTlsKmsClient client =
        RaTlsKmsClient.create(
            vertx,
            crypto,
            new RaTlsKmsClient.Settings(
                source,
                Optional.empty(),
                attestation.provider(),
                new ServerAttestationPolicy(attestation.verifier(), true, attestation.clock()),
                RaTlsKmsClient.Settings.CONNECT_TIMEOUT,
                sourceDeadline,
                RaTlsKmsClient.Settings.MAX_RESPONSE_BYTES));
    LOG.info("onboarding from {} as {}", source, domain);
    return client
        .open()
        .compose(
            session ->
                requireSourceAllowed(session.serverAttestation().orElseThrow(), ownVmConfig)
                    .compose(
                        v ->
                            session.call(
                                "GetKmsKey",
                                GetKmsKeyRequest.newBuilder().setVmConfig(ownVmConfig).build(),
                                KmsKeyResponse.getDefaultInstance()))
                    .compose(keys -> crypto.run(() -> install(keys, session.rootCa(), domain))))
        .recover(e -> Future.failedFuture(sourceFailure(source, e)))
        .eventually(client::close);
  }

  /** Step 3 of §11: the source KMS must pass *our* policy, as a KMS. */
  private Future<Void> requireSourceAllowed(VerifiedAttestation source, String ownVmConfig) {
    BootInfo boot;
    try {
      BootInfo f = source.bootInfo(false, "");
      String osImage = f.osImageHash();
      if (osImage.isEmpty()) {
        // A legacy source certificate has no vm_config: dstack substitutes its own image hash.
        osImage = HexFormat.of().formatHex(AppInfo.osImageHash(ownVmConfig));
      }
      boot = f.withOsImageHash(osImage);
    } catch (RuntimeException e) {
      return Future.failedFuture(
          new KmsException(
              KmsException.Kind.DENIED,
              "Source KMS is not allowed for onboarding: its attestation gives no identity: "
                  + e.getMessage(),
              e));
    }
    return decide(
        auth.checkKms(boot), "Source KMS is not allowed for onboarding: ", "the source KMS");
  }

  private OnboardResponse install(
      KmsKeyResponse response, java.security.cert.X509Certificate sourceRoot, String domain)
      throws java.io.IOException {
    if (response.getKeysCount() != 1) {
      throw new KmsException(
          KmsException.Kind.UPSTREAM_UNAVAILABLE,
          "the source KMS returned " + response.getKeysCount() + " key sets, expected 1");
    }
    KmsKeys received = response.getKeys(0);
    RootKeys keys;
    try {
      keys =
          keyBootstrap.fromReceivedKeys(
              response.getTempCaKey(),
              received.getCaKey(),
              received.getK256Key().toByteArray(),
              domain,
              rpcCertAttester,
              sourceRoot.getPublicKey());
    } catch (IllegalArgumentException e) {
      throw new KmsException(
          KmsException.Kind.UPSTREAM_UNAVAILABLE,
          "the source KMS sent unusable keys: " + e.getMessage());
    }
    store.save(keys);
    LOG.info(
        "onboarded: stored the received keys with a new RPC certificate for {} (k256 {})",
        domain,
        HexFormat.of().formatHex(keys.k256CompressedPublicKey()));
    return OnboardResponse.newBuilder()
        .setK256Pubkey(ByteString.copyFrom(keys.k256CompressedPublicKey()))
        .build();
  }

  /** §5.5: this CVM's measurements (for the operator's policy) and the deployment facts. */
  public Future<AttestationInfoResponse> getAttestationInfo(Caller caller, Empty request) {
    return crypto
        .run(
            () -> {
              byte[] zero = new byte[64];
              VersionedAttestation own = VersionedAttestation.decode(attestation.attest(zero));
              VerifiedAttestation verified =
                  attestation.verifier().verify(own, zero, attestation.clock().instant());
              BootInfo f = verified.bootInfo(false, own.config());
              HexFormat hex = HexFormat.of();
              return AttestationInfoResponse.newBuilder()
                  .setDeviceId(ByteString.copyFrom(hex.parseHex(f.deviceId())))
                  .setMrAggregated(ByteString.copyFrom(hex.parseHex(f.mrAggregated())))
                  .setOsImageHash(ByteString.copyFrom(hex.parseHex(f.osImageHash())))
                  .setTeeVariant(f.teeVariant())
                  .setSiteName(siteName)
                  .setPpid(ByteString.copyFrom(verified.ppid()));
            })
        .recover(
            e ->
                Future.failedFuture(
                    e instanceof KmsException
                        ? e
                        : new KmsException(
                            KmsException.Kind.NOT_ATTESTED,
                            "cannot attest this KMS: "
                                + (e instanceof AttestationException a
                                    ? a.publicMessage()
                                    : e.getMessage()),
                            e)))
        .compose(
            b ->
                auth.info()
                    .otherwise((AuthInfo) null) // dstack tolerates an auth API outage here
                    .map(
                        info -> {
                          if (info != null) {
                            b.setEthRpcUrl(info.ethRpcUrl().orElse(""));
                            b.setKmsContractAddress(info.kmsContractAddress().orElse(""));
                          }
                          return b.build();
                        }));
  }

  /**
   * §5.6. Unlike dstack, Finish is refused while there are no keys: stopping then would only end
   * the process with "Failed to onboard".
   */
  public Future<Empty> finish(Caller caller, Empty request) {
    return exclusive(
        () ->
            crypto
                .run(() -> store.state() == KeyStore.State.COMPLETE)
                .map(
                    complete -> {
                      if (!complete) {
                        throw KmsException.invalid(
                            "nothing to finish: the KMS has no keys yet; call Bootstrap or"
                                + " Onboard first");
                      }
                      if (finished.tryComplete()) {
                        LOG.info("onboarding finished");
                      }
                      return Empty.getDefaultInstance();
                    }));
  }

  /** Self-authorization with a fresh attestation (not the cached self BootInfo). */
  private Future<Void> requireSelfAllowed() {
    return new SelfBootInfo(crypto, attestation)
        .get()
        .recover(
            e ->
                Future.failedFuture(
                    new KmsException(
                        KmsException.Kind.NOT_ATTESTED,
                        "KMS is not allowed to bootstrap: cannot attest this KMS: "
                            + e.getMessage(),
                        e)))
        .compose(
            boot -> decide(auth.checkKms(boot), "KMS is not allowed to bootstrap: ", "this KMS"));
  }

  private static Future<Void> decide(
      Future<dev.cvmkms.kms.auth.BootDecision> decision, String deniedPrefix, String who) {
    return decision.transform(
        ar -> {
          if (ar.failed()) {
            Throwable e = ar.cause();
            return Future.failedFuture(
                e instanceof KmsException k
                    ? new KmsException(k.kind(), deniedPrefix + k.getMessage(), k)
                    : new KmsException(
                        KmsException.Kind.UPSTREAM_UNAVAILABLE,
                        deniedPrefix
                            + "the auth API could not decide about "
                            + who
                            + ": "
                            + e.getMessage(),
                        e));
          }
          if (!ar.result().isAllowed()) {
            return Future.failedFuture(
                new KmsException(KmsException.Kind.DENIED, deniedPrefix + ar.result().reason()));
          }
          return Future.succeededFuture();
        });
  }

  private static Throwable sourceFailure(URI source, Throwable e) {
    if (e instanceof KmsException) {
      return e;
    }
    if (e instanceof KmsClientException c) {
      String message = "onboarding from " + source + " failed: " + c.getMessage();
      return switch (c.reason()) {
        case INVALID_REQUEST -> KmsException.invalid(message);
        case SERVER_REJECTED -> new KmsException(KmsException.Kind.DENIED, message, c);
        case CLIENT_CERTIFICATE -> new KmsException(KmsException.Kind.NOT_ATTESTED, message, c);
        default -> new KmsException(KmsException.Kind.UPSTREAM_UNAVAILABLE, message, c);
      };
    }
    return e;
  }

  /** dstack's bootstrap lock: one of Bootstrap, Onboard, Finish at a time, in arrival order. */
  private synchronized <T> Future<T> exclusive(Supplier<Future<T>> work) {
    Promise<T> result = Promise.promise();
    Future<?> previous = lockTail;
    lockTail = result.future();
    previous.onComplete(
        ignored -> {
          Future<T> f;
          try {
            f = work.get();
          } catch (RuntimeException e) {
            f = Future.failedFuture(e);
          }
          f.onComplete(result);
        });
    return result.future();
  }
}
