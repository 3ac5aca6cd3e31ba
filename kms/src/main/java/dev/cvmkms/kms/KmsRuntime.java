package dev.cvmkms.kms;

import com.google.protobuf.ByteString;
import dev.cvmkms.kms.attestation.AttestationVerifier;
import dev.cvmkms.kms.auth.AuthPolicy;
import dev.cvmkms.kms.auth.DevAuthPolicy;
import dev.cvmkms.kms.auth.SelfAuthorization;
import dev.cvmkms.kms.auth.WebhookAuthPolicy;
import dev.cvmkms.kms.client.HttpImageVerifier;
import dev.cvmkms.kms.client.ImageVerifier;
import dev.cvmkms.kms.client.RaTlsKmsClient;
import dev.cvmkms.kms.config.AuthApiConfig;
import dev.cvmkms.kms.config.KmsConfig;
import dev.cvmkms.kms.keys.BootstrapInfo;
import dev.cvmkms.kms.keys.FileKeyStore;
import dev.cvmkms.kms.keys.KeyBootstrap;
import dev.cvmkms.kms.keys.KeyStore;
import dev.cvmkms.kms.keys.RootKeys;
import dev.cvmkms.kms.ops.AcceptGate;
import dev.cvmkms.kms.ops.HttpsListener;
import dev.cvmkms.kms.ops.ListenerGuard;
import dev.cvmkms.kms.ops.OnboardListener;
import dev.cvmkms.kms.ops.OpsMetrics;
import dev.cvmkms.kms.ops.OpsRoutes;
import dev.cvmkms.kms.ops.PhasedShutdown;
import dev.cvmkms.kms.ops.Readiness;
import dev.cvmkms.kms.ops.TerminationSignals;
import dev.cvmkms.kms.ops.TlsIdentity;
import dev.cvmkms.kms.proto.BootstrapResponse;
import dev.cvmkms.kms.rpc.CryptoPool;
import dev.cvmkms.kms.rpc.PrpcMethod;
import dev.cvmkms.kms.rpc.PrpcRoutes;
import dev.cvmkms.kms.rpc.RateLimiter;
import dev.cvmkms.kms.service.AppAuthorization;
import dev.cvmkms.kms.service.CallerAttestation;
import dev.cvmkms.kms.service.FileAuditLog;
import dev.cvmkms.kms.service.KeyRelease;
import dev.cvmkms.kms.service.KmsAttestation;
import dev.cvmkms.kms.service.KmsMethods;
import dev.cvmkms.kms.service.KmsService;
import dev.cvmkms.kms.service.OnboardService;
import dev.cvmkms.kms.service.PublicMaterial;
import dev.cvmkms.kms.service.ResponseSignatures;
import dev.cvmkms.kms.service.SelfBootInfo;
import dev.cvmkms.kms.service.SelfCheck;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.ext.web.Router;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wiring by hand: from a validated config to a serving KMS. Start-up I/O (cert_dir, attestation) is
 * synchronous here, before anything is deployed; after that everything runs on Vert.x.
 */
public final class KmsRuntime {
  private static final Logger LOG = LoggerFactory.getLogger(KmsRuntime.class);

  /**
   * What the caller chose beyond the config file.
   *
   * @param bootstrapDomain the domain to bootstrap an empty cert_dir with; empty: keys must exist
   * @param attestation this KMS's attestation stack; needed for attest_rpc_cert and
   *     self-authorization
   * @param signResponses sign the public RPCs' responses ({@link ResponseSignatures}); only the
   *     GetMeta benchmark's unsigned baseline turns it off ({@code kms dev
   *     --insecure-unsigned-responses})
   */
  public record Options(
      Optional<String> bootstrapDomain,
      Optional<KmsAttestation> attestation,
      boolean signResponses) {
    /** Responses signed. */
    public Options(Optional<String> bootstrapDomain, Optional<KmsAttestation> attestation) {
      this(bootstrapDomain, attestation, true);
    }
  }

  /** A started KMS. {@code shutdown} is what SIGTERM/SIGINT run; tests may run it themselves. */
  public record Running(
      Vertx vertx, HttpsListener listener, RootKeys keys, PhasedShutdown shutdown) {}

  private KmsRuntime() {}

  public static Running start(KmsConfig config, Options options) throws Exception {
    long t0 = System.nanoTime();
    Readiness readiness = new Readiness();
    FileKeyStore store = new FileKeyStore(config.certDir());
    KeyState.Attesters attesters = KeyState.Attesters.of(config, options.attestation());
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    // Clients built before the runtime (the PCCS and guest agent ones of the attestation stack)
    // register on the global registry, which forwards to this one.
    Metrics.globalRegistry.add(registry);
    Vertx vertx =
        Vertx.builder()
            .with(
                new VertxOptions()
                    // A blocked event loop is a bug here: warn (default 2 s) with a stack trace
                    // at once. 1 s leaves room for one-off cold-JVM class loading (first TLS
                    // handshake, first outbound connect) on a loaded 2-core machine.
                    .setMaxEventLoopExecuteTime(1000)
                    .setMaxEventLoopExecuteTimeUnit(TimeUnit.MILLISECONDS)
                    .setBlockedThreadCheckInterval(100)
                    .setBlockedThreadCheckIntervalUnit(TimeUnit.MILLISECONDS)
                    .setWarningExceptionTime(1000)
                    .setWarningExceptionTimeUnit(TimeUnit.MILLISECONDS)
                    .setMetricsOptions(
                        new MicrometerMetricsOptions().setEnabled(true).setJvmMetricsEnabled(true)))
            .withMetrics(new MicrometerMetricsFactory(registry))
            // Connection caps at accept time, ahead of TLS (ListenerGuard alone sees a TLS
            // connection only after its handshake).
            .withTransport(AcceptGate.transport())
            .build();

    CryptoPool crypto = new CryptoPool(vertx, Runtime.getRuntime().availableProcessors(), 60);
    AuthPolicy auth;
    RootKeys keys;
    try {
      auth = authPolicy(config, vertx, registry);
      if (KeyState.needsOnboarding(store, config, options.bootstrapDomain())) {
        runOnboarding(config, store, vertx, crypto, auth, options, attesters, registry);
      }
      keys =
          KeyState.prepare(
              store,
              options.bootstrapDomain(),
              Optional.of(config.onboard().autoBootstrapDomain()).filter(d -> !d.isBlank()),
              attesters,
              Clock.systemUTC());
    } catch (Exception | Error e) {
      vertx.close();
      throw e;
    }
    readiness.keysLoaded();
    OpsMetrics.readiness(registry, readiness);
    OpsMetrics.certificates(
        registry,
        Map.of(
            "root_ca", keys.rootCaCertificate(),
            "tmp_ca", keys.tmpCaCertificate(),
            "rpc", keys.rpcCertificate()));
    warnIfTlsPathsDiffer(config);
    SelfCheck selfCheck = selfCheck(config, auth, crypto, options.attestation());
    Clock clock = Clock.systemUTC();
    Optional<AttestationVerifier> verifier = options.attestation().map(KmsAttestation::verifier);
    ImageVerifier images = imageVerifier(config, vertx, crypto, registry);
    KeyRelease release =
        new KeyRelease(
            keys,
            crypto,
            new AppAuthorization(
                auth, images, crypto, config.sevSnpKeyRelease(), config.awsNitroTpmKeyRelease()),
            verifier,
            clock);
    KmsService kms =
        new KmsService(publicMaterial(keys, store.bootstrapInfo()), auth, selfCheck, release);
    FileAuditLog audit =
        new FileAuditLog(vertx, config.auditLog(), config.auditRotation(), registry);
    audit.open().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    List<PrpcMethod<?, ?>> methods =
        new KmsMethods(
                new CallerAttestation(crypto, verifier, clock),
                audit,
                clock,
                config.rpc().bodyLimits())
            .table(kms);
    PrpcRoutes prpc =
        new PrpcRoutes(
            "KMS.", methods, registry, KmsVersion.version(), new RateLimiter(config.rateLimit()));
    if (options.signResponses()) {
      prpc.signResponses(
          Set.copyOf(ResponseSignatures.SIGNED),
          new ResponseSignatures(keys.secretK256Scalar(), crypto, clock));
    } else {
      LOG.warn("INSECURE: public responses are not signed (benchmark baseline only)");
    }
    prpc.warmUp();

    Router router = Router.router(vertx);
    OpsRoutes.mount(router, readiness, registry, config.metrics().enabled());
    prpc.mount(router);

    TlsIdentity tls =
        new TlsIdentity(keys.secretRpcKeyPem(), keys.rpcCertPem(), keys.tmpCaCertPem());
    HttpsListener listener =
        HttpsListener.start(
                vertx,
                config.rpc().address(),
                config.rpc().port(),
                tls,
                config.rpc().tls().mutual().mandatory(),
                router,
                new ListenerGuard(
                    vertx, "rpc", config.limits(), path -> path.startsWith("/prpc/"), registry),
                config.rpc().tls().engine())
            .toCompletionStage()
            .toCompletableFuture()
            .get(30, TimeUnit.SECONDS);
    readiness.accepting();
    PhasedShutdown shutdown =
        new PhasedShutdown(
            config.shutdown(),
            () -> {
              readiness.draining();
              listener.closeConnectionsAfterResponses();
            },
            budget -> listener.drain(budget).toCompletionStage(),
            backgroundWork(auth, images, audit, crypto),
            List.of(
                new PhasedShutdown.Task("vertx close", () -> vertx.close().toCompletionStage())));
    TerminationSignals.install("kms-shutdown", shutdown::run);
    // SIGHUP reopens the audit log for external logrotate (and no longer ends the process).
    TerminationSignals.onHangup(() -> audit.reopen());
    config
        .insecureSettings()
        .forEach(setting -> LOG.warn("INSECURE setting in effect: {}", setting));
    prpc.methodNames().forEach(m -> LOG.info("serving /prpc/{}", m));
    LOG.info(
        "kms {} ready on https://{}:{} in {} ms (tls {}, auth {}, cert_dir {}, audit log {})",
        KmsVersion.version(),
        config.rpc().address(),
        listener.port(),
        (System.nanoTime() - t0) / 1_000_000,
        config.rpc().tls().engine() == dev.cvmkms.kms.config.TlsEngine.JDK
                || !HttpsListener.openSslAvailable()
            ? "jdk"
            : "boringssl",
        config.authApi().type(),
        config.certDir(),
        config.auditLog());
    return new Running(vertx, listener, keys, shutdown);
  }

  /**
   * Shutdown phase 3: what runs beside the requests — the auth-info refresher and webhook pool, the
   * image verifier's client, the audit log (its queued lines are written before it closes) and the
   * crypto workers — stopped together under one budget.
   */
  private static List<PhasedShutdown.Task> backgroundWork(
      AuthPolicy auth, ImageVerifier images, FileAuditLog audit, CryptoPool crypto) {
    List<PhasedShutdown.Task> tasks = new java.util.ArrayList<>();
    if (auth instanceof WebhookAuthPolicy webhook) {
      tasks.add(
          new PhasedShutdown.Task(
              "auth webhook client", () -> webhook.close().toCompletionStage()));
    }
    if (images instanceof HttpImageVerifier http) {
      tasks.add(
          new PhasedShutdown.Task("image verifier client", () -> http.close().toCompletionStage()));
    }
    tasks.add(new PhasedShutdown.Task("audit log flush", () -> audit.close().toCompletionStage()));
    tasks.add(new PhasedShutdown.Task("crypto workers", () -> crypto.close().toCompletionStage()));
    return tasks;
  }

  /**
   * The onboarding phase (spec §1.2 step 3, §5): the Onboard service on its plain-HTTP listener
   * until Finish; the keys it stored are then loaded like any others.
   */
  private static void runOnboarding(
      KmsConfig config,
      FileKeyStore store,
      Vertx vertx,
      CryptoPool crypto,
      AuthPolicy auth,
      Options options,
      KeyState.Attesters attesters,
      PrometheusMeterRegistry registry)
      throws Exception {
    KmsAttestation attestation =
        options
            .attestation()
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        "onboarding needs this KMS's attestation provider (guest agent)"));
    OnboardService onboard =
        new OnboardService(
            vertx,
            crypto,
            store,
            new KeyBootstrap(Clock.systemUTC()),
            auth,
            attestation,
            attesters.rpcCert(),
            config.siteName(),
            RaTlsKmsClient.Settings.DEADLINE);
    OnboardListener.runUntilFinished(
        vertx,
        config.onboard().address(),
        config.onboard().port(),
        onboard.methods(config.rpc().bodyLimits()),
        caller -> onboard.finish(caller, com.google.protobuf.Empty.getDefaultInstance()),
        onboard.finished(),
        config.limits(),
        registry);
    if (store.state() != KeyStore.State.COMPLETE) {
      throw new IllegalStateException("Failed to onboard: " + store + " holds no complete key set");
    }
  }

  /**
   * The listener serves the key set it loaded from cert_dir (rpc.key, rpc.crt, tmp-ca.crt), which
   * is what dstack's defaults point [rpc.tls] at; other paths there are not read, so say so.
   */
  private static void warnIfTlsPathsDiffer(KmsConfig config) {
    var tls = config.rpc().tls();
    Path dir = config.certDir();
    if (!tls.key().equals(dir.resolve("rpc.key"))
        || !tls.certs().equals(dir.resolve("rpc.crt"))
        || !tls.mutual().caCerts().equals(dir.resolve("tmp-ca.crt"))) {
      LOG.warn(
          "[rpc.tls] paths differ from cert_dir; the listener serves cert_dir's rpc.key, rpc.crt"
              + " and tmp-ca.crt (the keys it manages and renews)");
    }
  }

  /** The one auth policy of the process; the webhook client is created here, once. */
  static AuthPolicy authPolicy(KmsConfig config, Vertx vertx, PrometheusMeterRegistry registry) {
    return switch (config.authApi()) {
      case AuthApiConfig.Dev dev -> new DevAuthPolicy(dev.gatewayAppId());
      case AuthApiConfig.Webhook webhook ->
          WebhookAuthPolicy.start(vertx, webhook, registry, KmsVersion.version());
    };
  }

  /**
   * OS image verification: off; on through the configured dstack-verifier; or on with nothing able
   * to verify (there is no in-process verifier, see {@link ImageVerifier}), which refuses every
   * attested key release.
   */
  static ImageVerifier imageVerifier(KmsConfig config, Vertx vertx, CryptoPool crypto) {
    return imageVerifier(
        config, vertx, crypto, new io.micrometer.core.instrument.simple.SimpleMeterRegistry());
  }

  static ImageVerifier imageVerifier(
      KmsConfig config, Vertx vertx, CryptoPool crypto, MeterRegistry registry) {
    if (!config.image().verify()) {
      return ImageVerifier.disabled();
    }
    if (config.image().verifierUrl().isPresent()) {
      return new HttpImageVerifier(
          vertx,
          crypto,
          config.image().verifierUrl().get(),
          config.image().verifierClient(),
          registry,
          Clock.systemUTC());
    }
    LOG.warn(
        "core.image.verify is on but this KMS has no OS image verifier: GetAppKey, GetKmsKey and"
            + " SignCert will fail closed");
    return ImageVerifier.failClosed("no OS image verifier is available");
  }

  /** Self-authorization before the trusted RPCs, from this KMS's own verified attestation. */
  static SelfCheck selfCheck(
      KmsConfig config, AuthPolicy auth, CryptoPool crypto, Optional<KmsAttestation> attestation) {
    if (!config.enforceSelfAuthorization()) {
      return SelfCheck.disabled();
    }
    KmsAttestation att =
        attestation.orElseThrow(
            () ->
                new IllegalStateException(
                    "core.enforce_self_authorization is on but no attestation provider"));
    return new SelfAuthorization(auth, new SelfBootInfo(crypto, att), true)::requireSelfAllowed;
  }

  static PublicMaterial publicMaterial(RootKeys keys, Optional<BootstrapInfo> bootstrapInfo) {
    return new PublicMaterial(
        keys.rootCaCertPem(),
        keys.k256CompressedPublicKey(),
        keys.tmpCaCertPem(),
        keys.secretTmpCaKeyPem(),
        bootstrapInfo.map(
            b ->
                BootstrapResponse.newBuilder()
                    .setCaPubkey(ByteString.copyFrom(b.caPubkey()))
                    .setK256Pubkey(ByteString.copyFrom(b.k256Pubkey()))
                    .setAttestation(ByteString.copyFrom(b.attestation()))
                    .build()));
  }
}
