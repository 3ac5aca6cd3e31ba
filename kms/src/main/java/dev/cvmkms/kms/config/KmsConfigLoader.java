package dev.cvmkms.kms.config;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.toml.TomlFactory;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads {@code kms.toml} into a validated {@link KmsConfig}.
 *
 * <p><b>File.</b> The keys of dstack's {@code kms.toml} where the concept is the same, with the
 * same defaults, plus ours (see {@code kms/kms.example.toml}). An upstream file loads unchanged:
 * Rocket's {@code [default]} keys ({@code workers}, {@code max_blocking}, {@code ident}, {@code
 * temp_dir}, {@code keep_alive}, {@code log_level}), {@code core.subject_postfix}, {@code
 * core.attestation.urls.amd_kds} and the non-TDX {@code core.attestation.root_ca.*} entries are
 * accepted and listed in {@link KmsConfig#ignoredKeys()}. Any other unknown key is an error naming
 * its dotted path, e.g. {@code unknown key core.auth_api.webhok}: a misspelt security setting must
 * not be silently dropped.
 *
 * <p><b>Environment.</b> For containers, any key can be overridden by an environment variable named
 * {@code KMS__} followed by the key's dotted path in upper case with {@code __} between segments:
 *
 * <pre>
 *   KMS__CORE__CERT_DIR=/data/certs              core.cert_dir
 *   KMS__RPC__PORT=9000                          rpc.port
 *   KMS__CORE__AUTH_API__WEBHOOK__URL=http://127.0.0.1:8001
 *   KMS__RPC__BODY_LIMITS__SIGNCERT=512KiB       rpc.body_limits.SignCert (matched ignoring case)
 * </pre>
 *
 * The value is parsed with the key's type (integer, {@code true}/{@code false}, duration such as
 * {@code 30s}, size such as {@code 64KiB}, string) and wins over the file. A {@code KMS__} variable
 * that names no key is an error. As in dstack, the admin token may also come from {@code
 * DSTACK_KMS_ADMIN_TOKEN} or {@code ADMIN_API_TOKEN} when {@code core.admin.auth_token} is empty.
 *
 * <p>Every failure is a {@link ConfigException} whose message names the key or variable.
 */
public final class KmsConfigLoader {
  /** dstack's admin token variables, consulted in this order when auth_token is empty. */
  public static final List<String> ADMIN_TOKEN_ENV =
      List.of("DSTACK_KMS_ADMIN_TOKEN", "ADMIN_API_TOKEN");

  private static final String[] ROCKET_DEFAULT_KEYS = {
    "workers", "max_blocking", "ident", "temp_dir", "keep_alive", "log_level"
  };
  private static final String[] NON_TDX_ROOTS = {
    "gcp_tpm",
    "aws_nitro_enclave",
    "aws_nitro_tpm",
    "sev_snp_milan",
    "sev_snp_genoa",
    "sev_snp_turin"
  };

  private static final TomlMapper TOML =
      TomlMapper.builder(
              TomlFactory.builder().disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION).build())
          .build();

  private KmsConfigLoader() {}

  /**
   * Loads {@code file} (UTF-8 TOML) with overrides from {@code env} (pass {@code System.getenv()}).
   */
  public static KmsConfig load(Path file, Map<String, String> env) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new ConfigException(file.toString(), "config file not found: " + file, e);
    } catch (IOException e) {
      throw new ConfigException(
          file.toString(), "cannot read config file " + file + ": " + e.getMessage(), e);
    }
    return parse(text, env, file.toString());
  }

  /** Parses TOML text (tests, or a config passed inline). */
  public static KmsConfig parse(String toml, Map<String, String> env) {
    return parse(toml, env, "<string>");
  }

  /** The built-in defaults (dstack's {@code kms.toml}) with overrides from {@code env}. */
  public static KmsConfig defaults(Map<String, String> env) {
    return parse("", env, "<defaults>");
  }

  /**
   * Every key this loader reads (dotted paths, ignored keys excluded); for documentation checks.
   */
  static Set<String> keys() {
    Set<String> schema = new TreeSet<>();
    bind(JsonNodeFactory.instance.objectNode(), EnvOverrides.from(Map.of()), schema);
    return schema;
  }

  private static KmsConfig parse(String toml, Map<String, String> env, String source) {
    return bind(readTree(toml, source), EnvOverrides.from(env), new TreeSet<>());
  }

  private static KmsConfig bind(ObjectNode tree, EnvOverrides overrides, Set<String> schema) {
    Map<String, String> env = overrides.env();
    List<String> ignored = new ArrayList<>();
    ConfigTable root = ConfigTable.root(tree, overrides, ignored, schema);

    ConfigTable rocket = root.table("default");
    rocket.ignore(ROCKET_DEFAULT_KEYS);
    rocket.finish();

    RpcConfig rpc = readRpc(root.table("rpc"));
    KmsConfig config = readCore(root.table("core"), rpc, env, ignored);
    root.finish();
    overrides.requireAllUsed();
    return config;
  }

  private static ObjectNode readTree(String toml, String source) {
    JsonNode tree;
    try {
      tree = TOML.readTree(toml);
    } catch (JacksonException e) {
      JsonLocation loc = e.getLocation();
      String where =
          loc == null ? "" : " (line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ")";
      throw new ConfigException(
          source, "invalid TOML in " + source + where + ": " + e.getOriginalMessage(), e);
    }
    if (tree == null || tree.isMissingNode()) {
      return JsonNodeFactory.instance.objectNode();
    }
    return (ObjectNode) tree;
  }

  private static RpcConfig readRpc(ConfigTable t) {
    String address = t.string("address", "0.0.0.0");
    int port = t.integer("port", 8000);

    ConfigTable tlsT = t.table("tls");
    Path key = tlsT.path("key", Path.of("/etc/kms/certs/rpc.key"));
    Path certs = tlsT.path("certs", Path.of("/etc/kms/certs/rpc.crt"));
    ConfigTable mutualT = tlsT.table("mutual");
    MutualTlsConfig mutual =
        new MutualTlsConfig(
            mutualT.path("ca_certs", Path.of("/etc/kms/certs/tmp-ca.crt")),
            mutualT.bool("mandatory", false));
    mutualT.finish();
    tlsT.finish();

    ConfigTable limitsT = t.table("body_limits");
    long defaultLimit = limitsT.bytes("default", BodyLimits.DEFAULT_LIMIT);
    Map<String, Long> perMethod = new HashMap<>(BodyLimits.defaults().perMethod());
    for (String method : BodyLimits.METHODS) {
      Long limit = limitsT.bytes(method, null);
      if (limit != null) perMethod.put(method, limit);
    }
    limitsT.finish();

    Duration grace = t.duration("shutdown_grace", RpcConfig.DEFAULT_SHUTDOWN_GRACE);
    t.finish();
    return new RpcConfig(
        address,
        port,
        new TlsConfig(key, certs, mutual),
        new BodyLimits(defaultLimit, perMethod),
        grace);
  }

  private static KmsConfig readCore(
      ConfigTable t, RpcConfig rpc, Map<String, String> env, List<String> ignored) {
    Path certDir = t.path("cert_dir", Path.of("/etc/kms/certs"));
    t.ignore("subject_postfix");
    String siteName = t.string("site_name", "");
    boolean enforceSelfAuth = t.bool("enforce_self_authorization", true);
    boolean attestRpcCert = t.bool("attest_rpc_cert", true);
    boolean sevSnp = t.bool("sev_snp_key_release", false);
    boolean nitroTpm = t.bool("aws_nitro_tpm_key_release", false);

    AttestationConfig attestation = readAttestation(t.table("attestation"));
    ImageConfig image = readImage(t.table("image"));
    AdminConfig admin = readAdmin(t.table("admin"), env);
    ConfigTable metricsT = t.table("metrics");
    MetricsConfig metrics = new MetricsConfig(metricsT.bool("enabled", true));
    metricsT.finish();
    AuthApiConfig authApi = readAuthApi(t.table("auth_api"));
    OnboardConfig onboard = readOnboard(t.table("onboard"));
    ConfigTable auditT = t.table("audit");
    Path auditLog = auditT.path("path", KmsConfig.defaultAuditLog(certDir));
    auditT.finish();
    t.finish();

    return new KmsConfig(
        rpc,
        certDir,
        siteName,
        enforceSelfAuth,
        attestRpcCert,
        sevSnp,
        nitroTpm,
        attestation,
        image,
        admin,
        metrics,
        authApi,
        onboard,
        ignored,
        auditLog);
  }

  private static AttestationConfig readAttestation(ConfigTable t) {
    boolean allowExternal = t.bool("insecure_allow_external_trust_anchors", false);
    ConfigTable urls = t.table("urls");
    Optional<String> pccs =
        urls.optionalString("pccs").map(String::strip).filter(s -> !s.isEmpty());
    urls.ignore("amd_kds");
    urls.finish();
    ConfigTable roots = t.table("root_ca");
    Optional<Path> tdxRoot = roots.optionalPath("tdx");
    roots.ignore(NON_TDX_ROOTS);
    roots.finish();
    PccsConfig pccsClient = PccsConfig.read(t.table("pccs"));
    ConfigTable agentT = t.table("guest_agent");
    OutboundClientConfig agent =
        OutboundClientConfig.read(agentT, AttestationConfig.guestAgentDefaults());
    agentT.finish();
    t.finish();
    return new AttestationConfig(
        allowExternal,
        pccs.map(s -> Checks.parseUri("core.attestation.urls.pccs", s)),
        tdxRoot,
        pccsClient,
        agent);
  }

  private static ImageConfig readImage(ConfigTable t) {
    ImageConfig image =
        new ImageConfig(
            t.bool("verify", true),
            t.path("cache_dir", Path.of("/usr/share/dstack/images")),
            t.string(
                "download_url",
                "http://localhost:8000/" + ImageConfig.HASH_PLACEHOLDER + ".tar.gz"),
            t.duration("download_timeout", Duration.ofMinutes(2)),
            t.optionalString("verifier_url")
                .map(String::strip)
                .filter(u -> !u.isEmpty())
                .map(u -> Checks.parseUri("core.image.verifier_url", u)),
            t.bool("insecure_allow_unverified_os_image", false));
    ConfigTable verifierT = t.table("verifier");
    image =
        image.withVerifierClient(
            OutboundClientConfig.read(verifierT, image.verifierClientDefaults()));
    verifierT.finish();
    t.finish();
    return image;
  }

  private static AdminConfig readAdmin(ConfigTable t, Map<String, String> env) {
    boolean enabled = t.bool("enabled", false);
    String address = t.string("address", AdminConfig.DEFAULT_ADDRESS);
    int port = t.integer("port", AdminConfig.DEFAULT_PORT);
    String token = t.string("auth_token", "").strip();
    for (String var : ADMIN_TOKEN_ENV) {
      if (!token.isEmpty()) break;
      token = env.getOrDefault(var, "").strip();
    }
    Optional<Path> htpasswd = t.optionalPath("htpasswd_file");
    boolean noAuth = t.bool("insecure_no_auth", false);
    t.finish();
    return new AdminConfig(enabled, address, port, Secret.of(token), htpasswd, noAuth);
  }

  /** Reads both variant tables (so their keys are known and typed) and builds the chosen one. */
  private static AuthApiConfig readAuthApi(ConfigTable t) {
    String type = t.string("type", "webhook");

    ConfigTable w = t.table("webhook");
    String url = w.string("url", AuthApiConfig.Webhook.DEFAULT_URL.toString());
    OutboundClientConfig client = OutboundClientConfig.read(w, OutboundClientConfig.defaults());
    Duration infoRefresh = w.duration("info_refresh", AuthApiConfig.Webhook.DEFAULT_INFO_REFRESH);
    Duration infoMaxStale =
        w.duration("info_max_stale", AuthApiConfig.Webhook.DEFAULT_INFO_MAX_STALE);
    w.finish();

    ConfigTable dev = t.table("dev");
    String gatewayAppId = dev.string("gateway_app_id", AuthApiConfig.Dev.DEFAULT_GATEWAY_APP_ID);
    dev.finish();
    t.finish();

    return switch (type) {
      case "webhook" ->
          new AuthApiConfig.Webhook(
              Checks.parseUri("core.auth_api.webhook.url", url), client, infoRefresh, infoMaxStale);
      case "dev" -> new AuthApiConfig.Dev(gatewayAppId);
      default ->
          throw new ConfigException(
              "core.auth_api.type",
              "core.auth_api.type must be \"webhook\" or \"dev\", got \"" + type + "\"");
    };
  }

  private static OnboardConfig readOnboard(ConfigTable t) {
    OnboardConfig onboard =
        new OnboardConfig(
            t.bool("enabled", true),
            t.string("auto_bootstrap_domain", ""),
            t.string("address", "0.0.0.0"),
            t.integer("port", 8000));
    t.finish();
    return onboard;
  }
}
