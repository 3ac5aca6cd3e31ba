package dev.cvmkms.kms.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The whole KMS configuration: {@code [rpc]} plus the keys of dstack's {@code [core]} table
 * (flattened here), each validated when constructed. Load it with {@link KmsConfigLoader}; build it
 * for local development with {@link #forDev}.
 *
 * @param rpc the main listener ({@code [rpc]})
 * @param certDir keys and certificates ({@code core.cert_dir})
 * @param siteName returned by GetAttestationInfo ({@code core.site_name})
 * @param enforceSelfAuthorization trusted RPCs first ask the auth API whether this KMS itself is
 *     allowed ({@code core.enforce_self_authorization}); off skips that gate
 * @param attestRpcCert embed an attestation in rpc.crt, a failure to re-attest at start-up is fatal
 *     ({@code core.attest_rpc_cert})
 * @param sevSnpKeyRelease dstack's local gate for SEV-SNP callers ({@code
 *     core.sev_snp_key_release})
 * @param awsNitroTpmKeyRelease dstack's local gate for NitroTPM callers ({@code
 *     core.aws_nitro_tpm_key_release})
 * @param attestation collateral and trust anchors ({@code [core.attestation]})
 * @param image OS image verification ({@code [core.image]})
 * @param admin the operator listener ({@code [core.admin]})
 * @param metrics {@code [core.metrics]}
 * @param authApi the policy backend ({@code [core.auth_api]})
 * @param onboard the onboarding listener ({@code [core.onboard]})
 * @param ignoredKeys keys that were accepted for dstack compatibility but have no effect here
 *     (Rocket's {@code [default]} keys, {@code core.subject_postfix}, non-TDX trust anchors); the
 *     caller should log them
 * @param auditLog the JSON-lines audit log of key releases and signing decisions ({@code
 *     core.audit.path}; default {@link #defaultAuditLog(Path)})
 * @param rateLimit per-client rate limits of the main listener ({@code [rate_limit]}, ours)
 * @param limits connection and request limits of every listener ({@code [limits]}, ours)
 * @param shutdown the phased-shutdown budgets ({@code [shutdown]})
 * @param auditRotation size-based rotation of the audit log ({@code core.audit.max_size}, {@code
 *     keep_files})
 */
public record KmsConfig(
    RpcConfig rpc,
    Path certDir,
    String siteName,
    boolean enforceSelfAuthorization,
    boolean attestRpcCert,
    boolean sevSnpKeyRelease,
    boolean awsNitroTpmKeyRelease,
    AttestationConfig attestation,
    ImageConfig image,
    AdminConfig admin,
    MetricsConfig metrics,
    AuthApiConfig authApi,
    OnboardConfig onboard,
    List<String> ignoredKeys,
    Path auditLog,
    RateLimitConfig rateLimit,
    ListenerLimits limits,
    ShutdownConfig shutdown,
    AuditRotation auditRotation) {

  /** The audit file's name in its directory. */
  public static final String AUDIT_LOG_FILE = "kms-audit.jsonl";

  /** The configuration with the audit log at its default place. */
  public KmsConfig(
      RpcConfig rpc,
      Path certDir,
      String siteName,
      boolean enforceSelfAuthorization,
      boolean attestRpcCert,
      boolean sevSnpKeyRelease,
      boolean awsNitroTpmKeyRelease,
      AttestationConfig attestation,
      ImageConfig image,
      AdminConfig admin,
      MetricsConfig metrics,
      AuthApiConfig authApi,
      OnboardConfig onboard,
      List<String> ignoredKeys) {
    this(
        rpc,
        certDir,
        siteName,
        enforceSelfAuthorization,
        attestRpcCert,
        sevSnpKeyRelease,
        awsNitroTpmKeyRelease,
        attestation,
        image,
        admin,
        metrics,
        authApi,
        onboard,
        ignoredKeys,
        defaultAuditLog(Checks.present("core.cert_dir", certDir)),
        RateLimitConfig.defaultConfig(),
        ListenerLimits.defaults(),
        ShutdownConfig.DEFAULTS,
        AuditRotation.DEFAULTS);
  }

  /** The configuration with the default rate and listener limits. */
  public KmsConfig(
      RpcConfig rpc,
      Path certDir,
      String siteName,
      boolean enforceSelfAuthorization,
      boolean attestRpcCert,
      boolean sevSnpKeyRelease,
      boolean awsNitroTpmKeyRelease,
      AttestationConfig attestation,
      ImageConfig image,
      AdminConfig admin,
      MetricsConfig metrics,
      AuthApiConfig authApi,
      OnboardConfig onboard,
      List<String> ignoredKeys,
      Path auditLog) {
    this(
        rpc,
        certDir,
        siteName,
        enforceSelfAuthorization,
        attestRpcCert,
        sevSnpKeyRelease,
        awsNitroTpmKeyRelease,
        attestation,
        image,
        admin,
        metrics,
        authApi,
        onboard,
        ignoredKeys,
        auditLog,
        RateLimitConfig.defaultConfig(),
        ListenerLimits.defaults(),
        ShutdownConfig.DEFAULTS,
        AuditRotation.DEFAULTS);
  }

  /**
   * Next to cert_dir, not in it: cert_dir holds only dstack's files (a replica's directory can be
   * copied as is), and the log outlives key rotation.
   */
  public static Path defaultAuditLog(Path certDir) {
    Path parent = certDir.toAbsolutePath().normalize().getParent();
    return (parent == null ? certDir : parent).resolve(AUDIT_LOG_FILE);
  }

  public KmsConfig {
    Checks.present("core.audit.path", auditLog);
    Checks.present("rate_limit", rateLimit);
    Checks.present("limits", limits);
    Checks.present("shutdown", shutdown);
    Checks.present("core.audit", auditRotation);
    Checks.present("rpc", rpc);
    Checks.present("core.cert_dir", certDir);
    Checks.present("core.site_name", siteName);
    Checks.present("core.attestation", attestation);
    Checks.present("core.image", image);
    Checks.present("core.admin", admin);
    Checks.present("core.metrics", metrics);
    Checks.present("core.auth_api", authApi);
    Checks.present("core.onboard", onboard);
    ignoredKeys = List.copyOf(Objects.requireNonNull(ignoredKeys, "ignoredKeys"));
    if (admin.enabled() && admin.port() != 0 && admin.port() == rpc.port()) {
      throw new ConfigException(
          "core.admin.port", "core.admin.port must differ from rpc.port (" + rpc.port() + ")");
    }
  }

  /**
   * A configuration for running the KMS locally, outside a TEE policy setup: everything under
   * {@code stateDir} (cert dir, rpc.key/rpc.crt, tmp-ca.crt, image cache), the dev auth API,
   * onboarding off, image verification off, self-authorization off (dev bootstrap does not
   * authorize itself), rpc.crt still attested, admin off.
   */
  public static KmsConfig forDev(Path stateDir, String bindAddress, int port) {
    Objects.requireNonNull(stateDir, "stateDir");
    RpcConfig rpc =
        new RpcConfig(bindAddress, port, TlsConfig.inCertDir(stateDir), BodyLimits.defaults());
    return new KmsConfig(
        rpc,
        stateDir,
        "",
        false,
        true,
        false,
        false,
        AttestationConfig.defaults(),
        ImageConfig.insecureUnverified(
            stateDir.resolve("images"),
            "http://localhost:8000/" + ImageConfig.HASH_PLACEHOLDER + ".tar.gz",
            Duration.ofMinutes(2)),
        AdminConfig.disabled(),
        new MetricsConfig(true),
        new AuthApiConfig.Dev(AuthApiConfig.Dev.DEFAULT_GATEWAY_APP_ID),
        new OnboardConfig(false, "", bindAddress, port),
        List.of(),
        stateDir.resolve(AUDIT_LOG_FILE),
        RateLimitConfig.defaultConfig(),
        ListenerLimits.defaults(),
        ShutdownConfig.forDev(),
        AuditRotation.DEFAULTS);
  }

  /**
   * This config with another auth API and self-authorization setting ({@code kms dev --auth-url}).
   */
  public KmsConfig withAuthApi(AuthApiConfig authApi, boolean enforceSelfAuthorization) {
    return new KmsConfig(
        rpc,
        certDir,
        siteName,
        enforceSelfAuthorization,
        attestRpcCert,
        sevSnpKeyRelease,
        awsNitroTpmKeyRelease,
        attestation,
        image,
        admin,
        metrics,
        authApi,
        onboard,
        ignoredKeys,
        auditLog,
        rateLimit,
        limits,
        shutdown,
        auditRotation);
  }

  /** This config with another onboarding section ({@code kms dev --onboard}). */
  public KmsConfig withOnboard(OnboardConfig onboard) {
    return new KmsConfig(
        rpc,
        certDir,
        siteName,
        enforceSelfAuthorization,
        attestRpcCert,
        sevSnpKeyRelease,
        awsNitroTpmKeyRelease,
        attestation,
        image,
        admin,
        metrics,
        authApi,
        onboard,
        ignoredKeys,
        auditLog,
        rateLimit,
        limits,
        shutdown,
        auditRotation);
  }

  /** This config with other rate and listener limits. */
  public KmsConfig withLimits(RateLimitConfig rateLimit, ListenerLimits limits) {
    return new KmsConfig(
        rpc,
        certDir,
        siteName,
        enforceSelfAuthorization,
        attestRpcCert,
        sevSnpKeyRelease,
        awsNitroTpmKeyRelease,
        attestation,
        image,
        admin,
        metrics,
        authApi,
        onboard,
        ignoredKeys,
        auditLog,
        rateLimit,
        limits,
        shutdown,
        auditRotation);
  }

  /**
   * Enabled settings that weaken security, as {@code key=value}, for {@code kms serve} to log
   * loudly at start-up. Empty for a production configuration.
   */
  public List<String> insecureSettings() {
    List<String> out = new ArrayList<>();
    if (!enforceSelfAuthorization) out.add("core.enforce_self_authorization=false");
    if (!attestRpcCert) out.add("core.attest_rpc_cert=false");
    if (!image.verify()) out.add("core.image.verify=false");
    if (authApi instanceof AuthApiConfig.Dev) out.add("core.auth_api.type=dev");
    if (attestation.insecureAllowExternalTrustAnchors()) {
      out.add("core.attestation.insecure_allow_external_trust_anchors=true");
    }
    if (attestation.tdxRootCa().isPresent()) out.add("core.attestation.root_ca.tdx (set)");
    if (admin.insecureNoAuth()) out.add("core.admin.insecure_no_auth=true");
    if (sevSnpKeyRelease) out.add("core.sev_snp_key_release=true");
    if (awsNitroTpmKeyRelease) out.add("core.aws_nitro_tpm_key_release=true");
    return List.copyOf(out);
  }

  /** The configured webhook, if {@code core.auth_api.type = "webhook"}. */
  public Optional<AuthApiConfig.Webhook> webhook() {
    return authApi instanceof AuthApiConfig.Webhook w ? Optional.of(w) : Optional.empty();
  }

  /** This config with another audit rotation. */
  public KmsConfig withAuditRotation(AuditRotation auditRotation) {
    return new KmsConfig(
        rpc,
        certDir,
        siteName,
        enforceSelfAuthorization,
        attestRpcCert,
        sevSnpKeyRelease,
        awsNitroTpmKeyRelease,
        attestation,
        image,
        admin,
        metrics,
        authApi,
        onboard,
        ignoredKeys,
        auditLog,
        rateLimit,
        limits,
        shutdown,
        auditRotation);
  }

  /** This config with other shutdown budgets. */
  public KmsConfig withShutdown(ShutdownConfig shutdown) {
    return new KmsConfig(
        rpc,
        certDir,
        siteName,
        enforceSelfAuthorization,
        attestRpcCert,
        sevSnpKeyRelease,
        awsNitroTpmKeyRelease,
        attestation,
        image,
        admin,
        metrics,
        authApi,
        onboard,
        ignoredKeys,
        auditLog,
        rateLimit,
        limits,
        shutdown,
        auditRotation);
  }
}
