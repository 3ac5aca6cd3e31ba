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
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * Reads {@code kms.toml} into a validated {@link KmsConfig}.
 *
 * <p><b>File.</b> The keys of dstack's {@code kms.toml} where the concept is the same, with the
 * same defaults, plus ours (see {@code kms/kms.example.toml}). Every {@code kms.toml} that a dstack
 * release (v0.4.2 … v0.5.11) or dstack main accepts loads here: keys that only upstream had are
 * registered in {@link UpstreamKeys}, which says for each whether it is ignored (Rocket's server
 * settings, {@code core.subject_postfix}, {@code core.onboard.quote_enabled}, non-TDX trust
 * anchors: listed in {@link KmsConfig#ignoredKeys()}) or read under its successor's meaning ({@code
 * core.pccs_url}, {@code core.admin_token_hash}). Any other unknown key is an error naming its
 * dotted path and the closest known key, e.g. {@code unknown key core.auth_api.webhok (did you mean
 * core.auth_api.webhook?)}: a misspelt security setting must not be silently dropped.
 *
 * <p><b>Adding a key.</b> A key of ours is added by reading it with a {@link ConfigTable} getter
 * (and a table by {@code table(name)} … {@code finish()}): the getters are the schema, so the file
 * key, its {@code KMS__} variable, its place in {@code --check-config} output and "did you mean"
 * all follow. Only keys that some dstack version had go into {@link UpstreamKeys}.
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
  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(KmsConfigLoader.class);

  /** dstack's admin token variables, consulted in this order when auth_token is empty. */
  public static final List<String> ADMIN_TOKEN_ENV =
      List.of("DSTACK_KMS_ADMIN_TOKEN", "ADMIN_API_TOKEN");

  private static final TomlMapper TOML =
      TomlMapper.builder(
              TomlFactory.builder().disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION).build())
          .build();

  private KmsConfigLoader() {}

  /**
   * Loads {@code file} (UTF-8 TOML) with overrides from {@code env} (pass {@code System.getenv()}).
   */
  public static KmsConfig load(Path file, Map<String, String> env) {
    return parse(readFile(file), env, file.toString());
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
   * Loads like {@link #load} and also reports what {@code kms serve --check-config} shows: the
   * effective value of every key (secrets redacted) and the upstream-only keys present.
   */
  public static ConfigCheck check(Path file, Map<String, String> env) {
    LoadRecord record = new LoadRecord(KmsConfigLoader::closestKnown);
    KmsConfig config =
        bind(readTree(readFile(file), file.toString()), EnvOverrides.from(env), record);
    return ConfigCheck.of(config, record);
  }

  /**
   * {@code [rate_limit]} and {@code [limits]} from {@code KMS__RATE_LIMIT__...} and {@code
   * KMS__LIMITS__...} variables ({@code kms dev}, which has no config file). A variable in those
   * two namespaces that names no key is refused; other {@code KMS__} variables are not dev's to
   * apply (its flags set the rest) and are left alone: in a container, {@code KMS__RPC__PORT} tells
   * the {@code healthcheck} command where {@code dev --port} listens.
   */
  public static KmsConfig withLimitsFromEnv(KmsConfig config, Map<String, String> env) {
    Map<String, String> limitVars = new java.util.TreeMap<>();
    env.forEach(
        (k, v) -> {
          if (k.startsWith("KMS__RATE_LIMIT__") || k.startsWith("KMS__LIMITS__")) {
            limitVars.put(k, v);
          }
        });
    EnvOverrides overrides = EnvOverrides.from(limitVars);
    ConfigTable root =
        ConfigTable.root(
            JsonNodeFactory.instance.objectNode(),
            overrides,
            new LoadRecord(KmsConfigLoader::closestKnown));
    RateLimitConfig rateLimit = readRateLimit(root.table("rate_limit"));
    ListenerLimits limits = readLimits(root.table("limits"));
    overrides.requireAllUsed(KmsConfigLoader::closestKey);
    return config.withLimits(rateLimit, limits);
  }

  /**
   * Every key this loader reads (dotted paths, ignored keys excluded); for documentation checks.
   */
  static Set<String> keys() {
    return Collections.unmodifiableSet(Schema.SCHEMA.values);
  }

  /** The schema, built once by reading an empty file: the getters are the schema. */
  private static final class Schema {
    static final LoadRecord SCHEMA = build();
    static final Set<String> KNOWN = known();

    private static LoadRecord build() {
      LoadRecord r = new LoadRecord(unknown -> Optional.empty());
      bind(JsonNodeFactory.instance.objectNode(), EnvOverrides.from(Map.of()), r);
      return r;
    }

    private static Set<String> known() {
      Set<String> all = new TreeSet<>(SCHEMA.values);
      all.addAll(SCHEMA.tables);
      all.addAll(UpstreamKeys.paths());
      return Set.copyOf(all);
    }
  }

  /** The known key closest to {@code unknown}, preferring keys we read over upstream-only ones. */
  private static Optional<String> closestKnown(String unknown) {
    Set<String> ours = new TreeSet<>(Schema.SCHEMA.values);
    ours.addAll(Schema.SCHEMA.tables);
    return KeySuggestions.closest(unknown, Schema.KNOWN, ours);
  }

  /** The key we read that is closest to {@code unknown} (only ours: they have variables). */
  private static Optional<String> closestKey(String unknown) {
    return KeySuggestions.closest(unknown, Schema.SCHEMA.values, Set.of());
  }

  private static String readFile(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new ConfigException(file.toString(), "config file not found: " + file, e);
    } catch (IOException e) {
      throw new ConfigException(
          file.toString(), "cannot read config file " + file + ": " + e.getMessage(), e);
    }
  }

  private static KmsConfig parse(String toml, Map<String, String> env, String source) {
    return bind(
        readTree(toml, source),
        EnvOverrides.from(env),
        new LoadRecord(KmsConfigLoader::closestKnown));
  }

  private static KmsConfig bind(ObjectNode tree, EnvOverrides overrides, LoadRecord record) {
    Map<String, String> env = overrides.env();
    ConfigTable root = ConfigTable.root(tree, overrides, record);

    // Rocket's [default] table: every key is upstream-only (UpstreamKeys), a typo still fails.
    root.table("default").finish();

    ConfigTable rpcT = root.table("rpc");
    Duration legacyGrace = rpcT.optionalDuration("shutdown_grace");
    RpcConfig rpc = readRpc(rpcT);
    RateLimitConfig rateLimit = readRateLimit(root.table("rate_limit"));
    ListenerLimits limits = readLimits(root.table("limits"));
    ShutdownConfig shutdown = readShutdown(root.table("shutdown"), legacyGrace);
    KmsConfig config =
        readCore(root.table("core"), rpc, env, record)
            .withLimits(rateLimit, limits)
            .withShutdown(shutdown);
    root.finish();
    overrides.requireAllUsed(KmsConfigLoader::closestKey);
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
    TlsEngine engine = TlsEngine.of("rpc.tls.engine", tlsT.string("engine", "auto"));
    tlsT.finish();

    ConfigTable limitsT = t.table("body_limits");
    long defaultLimit = limitsT.bytes("default", BodyLimits.DEFAULT_LIMIT);
    Map<String, Long> perMethod = new HashMap<>(BodyLimits.defaults().perMethod());
    for (String method : new TreeSet<>(BodyLimits.METHODS)) { // sorted: stable output
      Long limit = limitsT.optionalBytes(method);
      if (limit != null) perMethod.put(method, limit);
      limitsT.showEffective(
          method, "\"" + ByteSizes.format(perMethod.getOrDefault(method, defaultLimit)) + "\"");
    }
    limitsT.finish();

    t.finish();
    return new RpcConfig(
        address,
        port,
        new TlsConfig(key, certs, mutual, engine),
        new BodyLimits(defaultLimit, perMethod));
  }

  /**
   * {@code [shutdown]}. The former {@code rpc.shutdown_grace} (how long in-flight requests could
   * finish) is the same budget as {@code shutdown.http_drain}: it is accepted as a deprecated alias
   * for it, and setting both is an error (which one would win is not obvious).
   */
  private static ShutdownConfig readShutdown(ConfigTable t, @Nullable Duration legacyGrace) {
    ShutdownConfig d = ShutdownConfig.DEFAULTS;
    Duration pre = t.duration("pre_drain", d.preDrain());
    Duration http = t.optionalDuration("http_drain");
    Duration background = t.duration("background_drain", d.backgroundDrain());
    Duration grace = t.duration("grace_period", d.gracePeriod());
    t.finish();
    if (legacyGrace != null) {
      if (http != null) {
        throw new ConfigException(
            "rpc.shutdown_grace",
            "rpc.shutdown_grace is a deprecated alias of shutdown.http_drain; set only"
                + " shutdown.http_drain");
      }
      LOG.warn(
          "rpc.shutdown_grace is deprecated: it is read as shutdown.http_drain = \"{}\"",
          Durations.format(legacyGrace));
      http = legacyGrace;
    }
    return new ShutdownConfig(pre, http == null ? d.httpDrain() : http, background, grace);
  }

  private static RateLimitConfig readRateLimit(ConfigTable t) {
    RateLimitConfig d = RateLimitConfig.defaultConfig();
    boolean enabled = t.bool("enabled", d.enabled());
    RateLimitConfig.Rate defaults =
        new RateLimitConfig.Rate(
            t.integer("rate", d.defaults().perSecond()), t.integer("burst", d.defaults().burst()));
    ConfigTable methodsT = t.table("methods");
    Map<String, RateLimitConfig.Rate> perMethod = new HashMap<>();
    for (String method : BodyLimits.METHODS) {
      ConfigTable m = methodsT.table(method);
      Integer rate = m.optionalInteger("rate");
      Integer burst = m.optionalInteger("burst");
      if (rate != null || burst != null) {
        perMethod.put(
            method,
            new RateLimitConfig.Rate(
                rate == null ? defaults.perSecond() : rate,
                burst == null ? defaults.burst() : burst));
      }
      m.finish();
    }
    methodsT.finish();
    int maxClients = t.integer("max_clients", d.maxClients());
    Duration idle = t.duration("idle_expiry", d.idleExpiry());
    List<String> proxies = t.stringList("trusted_proxies", d.trustedProxies());
    String header = t.string("forwarded_header", d.forwardedHeader());
    RateLimitConfig.Rate ceiling =
        new RateLimitConfig.Rate(
            t.integer("address_rate", d.addressCeiling().perSecond()),
            t.integer("address_burst", d.addressCeiling().burst()));
    t.finish();
    return new RateLimitConfig(
        enabled, defaults, perMethod, maxClients, idle, proxies, header, ceiling);
  }

  private static ListenerLimits readLimits(ConfigTable t) {
    ListenerLimits d = ListenerLimits.defaults();
    ListenerLimits limits =
        new ListenerLimits(
            t.duration("header_timeout", d.headerTimeout()),
            t.duration("body_timeout", d.bodyTimeout()),
            t.duration("idle_timeout", d.idleTimeout()),
            t.bytes("max_header_size", d.maxHeaderSize()),
            t.integer("max_headers", d.maxHeaders()),
            t.bytes("max_url_length", d.maxUrlLength()),
            t.integer("max_connections", d.maxConnections()),
            t.integer("max_connections_per_address", d.maxConnectionsPerAddress()),
            t.bytes("no_body_limit", d.noBodyLimit()));
    t.finish();
    return limits;
  }

  private static KmsConfig readCore(
      ConfigTable t, RpcConfig rpc, Map<String, String> env, LoadRecord record) {
    Path certDir = t.path("cert_dir", Path.of("/etc/kms/certs"));
    // Retired upstream keys that keep their meaning here (UpstreamKeys).
    Optional<String> legacyPccs = t.upstreamString("pccs_url");
    Optional<AdminTokenHash> legacyAdminHash =
        t.upstreamString("admin_token_hash")
            .flatMap(h -> AdminTokenHash.parseHex("core.admin_token_hash", h));
    legacyAdminHash.ifPresent(h -> t.showEffective("admin_token_hash", h.toString()));
    String siteName = t.string("site_name", "");
    boolean enforceSelfAuth = t.bool("enforce_self_authorization", true);
    boolean attestRpcCert = t.bool("attest_rpc_cert", true);
    boolean sevSnp = t.bool("sev_snp_key_release", false);
    boolean nitroTpm = t.bool("aws_nitro_tpm_key_release", false);

    AttestationConfig attestation = readAttestation(t.table("attestation"), legacyPccs);
    ImageConfig image = readImage(t.table("image"));
    AdminConfig admin = readAdmin(t.table("admin"), env, legacyAdminHash);
    ConfigTable metricsT = t.table("metrics");
    MetricsConfig metrics = new MetricsConfig(metricsT.bool("enabled", true));
    metricsT.finish();
    AuthApiConfig authApi = readAuthApi(t.table("auth_api"));
    OnboardConfig onboard = readOnboard(t.table("onboard"));
    ConfigTable auditT = t.table("audit");
    Path auditLog = auditT.path("path", KmsConfig.defaultAuditLog(certDir));
    AuditRotation rotation =
        new AuditRotation(
            auditT.bytes("max_size", AuditRotation.DEFAULTS.maxBytes()),
            auditT.integer("keep_files", AuditRotation.DEFAULTS.keepFiles()));
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
            record.upstream(UpstreamKeys.Use.IGNORED),
            auditLog)
        .withAuditRotation(rotation);
  }

  private static AttestationConfig readAttestation(ConfigTable t, Optional<String> legacyPccs) {
    boolean allowExternal = t.bool("insecure_allow_external_trust_anchors", false);
    ConfigTable urls = t.table("urls");
    Optional<String> pccs =
        urls.optionalString("pccs").map(String::strip).filter(s -> !s.isEmpty());
    // dstack up to v0.5.11 read [core] pccs_url; empty meant "the default", as here.
    Optional<String> legacy = legacyPccs.map(String::strip).filter(s -> !s.isEmpty());
    legacy.ifPresent(u -> Checks.httpUrl("core.pccs_url", Checks.parseUri("core.pccs_url", u)));
    if (pccs.isPresent() && legacy.isPresent() && !PccsUrls.sameService(pccs.get(), legacy.get())) {
      throw new ConfigException(
          "core.pccs_url",
          "core.pccs_url and core.attestation.urls.pccs are both set and differ: core.pccs_url is"
              + " dstack's older name for the same setting; keep one");
    }
    if (pccs.isEmpty() && legacy.isPresent()) {
      pccs = legacy;
      urls.showEffective("pccs", "\"" + legacy.get() + "\" (from core.pccs_url)");
    }
    urls.finish();
    ConfigTable roots = t.table("root_ca");
    Optional<Path> tdxRoot = roots.optionalPath("tdx");
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

  private static AdminConfig readAdmin(
      ConfigTable t, Map<String, String> env, Optional<AdminTokenHash> legacyHash) {
    boolean enabled = t.bool("enabled", false);
    String address = t.string("address", AdminConfig.DEFAULT_ADDRESS);
    int port = t.integer("port", AdminConfig.DEFAULT_PORT);
    String token = t.secret("auth_token").reveal().strip();
    for (String var : ADMIN_TOKEN_ENV) {
      if (!token.isEmpty()) break;
      token = env.getOrDefault(var, "").strip();
      if (!token.isEmpty()) t.showEffective("auth_token", "<redacted> (from " + var + ")");
    }
    Optional<Path> htpasswd = t.optionalPath("htpasswd_file");
    boolean noAuth = t.bool("insecure_no_auth", false);
    t.finish();
    return new AdminConfig(enabled, address, port, Secret.of(token), htpasswd, noAuth, legacyHash);
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
