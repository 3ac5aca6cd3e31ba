package dev.cvmkms.kms.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class KmsConfigLoaderTest {
  private static final Map<String, String> NO_ENV = Map.of();

  static Path resource(String name) {
    URL url = KmsConfigLoaderTest.class.getResource("/config/" + name);
    assertThat(url).as("test resource %s", name).isNotNull();
    try {
      return Path.of(url.toURI());
    } catch (URISyntaxException e) {
      throw new AssertionError(e);
    }
  }

  static Path exampleFile() {
    return Path.of(System.getProperty("basedir", ".")).resolve("kms.example.toml");
  }

  @Test
  void exampleConfigParsesAndIsFailClosed() {
    KmsConfig c = KmsConfigLoader.load(exampleFile(), NO_ENV);

    assertThat(c.authApi()).isInstanceOf(AuthApiConfig.Webhook.class);
    assertThat(c.image().verify()).isTrue();
    assertThat(c.enforceSelfAuthorization()).isTrue();
    assertThat(c.attestRpcCert()).isTrue();
    assertThat(c.admin().enabled()).isFalse();
    assertThat(c.admin().insecureNoAuth()).isFalse();
    assertThat(c.admin().authToken().isEmpty()).isTrue();
    assertThat(c.attestation().insecureAllowExternalTrustAnchors()).isFalse();
    assertThat(c.insecureSettings()).isEmpty();
    assertThat(c.ignoredKeys()).isEmpty();
    // The example documents the built-in defaults, so it must agree with them.
    assertThat(c).isEqualTo(KmsConfigLoader.defaults(NO_ENV));
  }

  @Test
  void exampleDocumentsOurDefaults() {
    KmsConfig c = KmsConfigLoader.load(exampleFile(), NO_ENV);
    AuthApiConfig.Webhook w = c.webhook().orElseThrow();
    assertThat(w.url()).isEqualTo(URI.create("http://auth-api:8000"));
    assertThat(w.client()).isEqualTo(OutboundClientConfig.defaults());
    assertThat(w.client().connectTimeout()).isEqualTo(Duration.ofSeconds(2));
    assertThat(w.client().attemptTimeout()).isEqualTo(Duration.ofSeconds(3));
    assertThat(w.client().deadline()).isEqualTo(Duration.ofSeconds(5));
    assertThat(w.client().maxConnections()).isEqualTo(8);
    assertThat(w.client().maxResponseBytes()).isEqualTo(64 * 1024);
    assertThat(w.client().maxRetries()).isEqualTo(2);
    assertThat(w.client().breakerFailures()).isEqualTo(5);
    assertThat(w.client().breakerReset()).isEqualTo(Duration.ofSeconds(30));
    assertThat(w.infoRefresh()).isEqualTo(Duration.ofSeconds(60));
    assertThat(w.infoMaxStale()).isEqualTo(Duration.ofHours(24));
    assertThat(c.shutdown()).isEqualTo(ShutdownConfig.DEFAULTS);
    assertThat(c.shutdown().preDrain()).isEqualTo(Duration.ofSeconds(5));
    assertThat(c.shutdown().httpDrain()).isEqualTo(Duration.ofSeconds(15));
    assertThat(c.shutdown().backgroundDrain()).isEqualTo(Duration.ofSeconds(5));
    assertThat(c.shutdown().gracePeriod()).isEqualTo(Duration.ofSeconds(28));
    assertThat(c.rpc().bodyLimits().limitFor("GetMeta")).isEqualTo(64 * 1024);
    assertThat(c.rpc().bodyLimits().limitFor("SignCert")).isEqualTo(1024 * 1024);
  }

  @Test
  void exampleDocumentsEveryKey() throws Exception {
    // Commented-out optional keys ("# pccs = ...") count as documented.
    String text = Files.readString(exampleFile()).replaceAll("(?m)^# ([A-Za-z_]+ = .*)$", "$1");
    Set<String> documented = new TreeSet<>();
    flatten("", new TomlMapper().readTree(text), documented);

    // Per-method body limits are listed by name in a comment, not each as a key.
    // So are per-method rate limits: GetAppKey stands for the others.
    java.util.function.Predicate<String> otherMethodLimit =
        k ->
            (k.startsWith("rpc.body_limits.")
                    && !k.equals("rpc.body_limits.default")
                    && !k.equals("rpc.body_limits.SignCert"))
                || (k.startsWith("rate_limit.methods.")
                    && !k.startsWith("rate_limit.methods.GetAppKey."));
    Set<String> expected = new TreeSet<>(KmsConfigLoader.keys());
    expected.removeIf(otherMethodLimit);
    documented.removeIf(otherMethodLimit);
    assertThat(expected).hasSizeGreaterThan(40);
    assertThat(documented).containsAll(expected);
    assertThat(expected).containsAll(documented);
  }

  private static void flatten(String prefix, JsonNode node, Set<String> out) {
    node.properties()
        .forEach(
            e -> {
              String key = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
              if (e.getValue().isObject()) flatten(key, e.getValue(), out);
              else out.add(key);
            });
  }

  @Test
  void dstackKmsTomlLoadsWithRocketKeysReportedAsIgnored() {
    KmsConfig c = KmsConfigLoader.load(resource("dstack-kms.toml"), NO_ENV);

    assertThat(c.ignoredKeys())
        .containsExactlyInAnyOrder(
            "default.workers",
            "default.max_blocking",
            "default.ident",
            "default.temp_dir",
            "default.keep_alive",
            "default.log_level",
            "core.subject_postfix");
    assertThat(c.rpc().address()).isEqualTo("0.0.0.0");
    assertThat(c.rpc().port()).isEqualTo(8000);
    assertThat(c.rpc().tls().key()).isEqualTo(Path.of("/etc/kms/certs/rpc.key"));
    assertThat(c.rpc().tls().certs()).isEqualTo(Path.of("/etc/kms/certs/rpc.crt"));
    assertThat(c.rpc().tls().mutual().caCerts()).isEqualTo(Path.of("/etc/kms/certs/tmp-ca.crt"));
    assertThat(c.rpc().tls().mutual().mandatory()).isFalse();
    assertThat(c.certDir()).isEqualTo(Path.of("/etc/kms/certs"));
    assertThat(c.siteName()).isEmpty();
    assertThat(c.sevSnpKeyRelease()).isFalse();
    assertThat(c.awsNitroTpmKeyRelease()).isFalse();
    assertThat(c.attestation()).isEqualTo(AttestationConfig.defaults());
    assertThat(c.image().cacheDir()).isEqualTo(Path.of("/usr/share/dstack/images"));
    assertThat(c.image().downloadUrlFor("ab12")).isEqualTo("http://localhost:8000/ab12.tar.gz");
    assertThat(c.image().downloadTimeout()).isEqualTo(Duration.ofMinutes(2));
    assertThat(c.admin()).isEqualTo(AdminConfig.disabled());
    assertThat(c.metrics().enabled()).isTrue();
    assertThat(c.onboard()).isEqualTo(new OnboardConfig(true, "", "0.0.0.0", 8000));
    assertThat(c.insecureSettings()).isEmpty();
    // Same values as our built-in defaults, apart from the ignored-key report.
    assertThat(
            new KmsConfig(
                c.rpc(),
                c.certDir(),
                c.siteName(),
                c.enforceSelfAuthorization(),
                c.attestRpcCert(),
                c.sevSnpKeyRelease(),
                c.awsNitroTpmKeyRelease(),
                c.attestation(),
                c.image(),
                c.admin(),
                c.metrics(),
                c.authApi(),
                c.onboard(),
                java.util.List.of()))
        .isEqualTo(KmsConfigLoader.defaults(NO_ENV));
  }

  @Test
  void tlsEngine_autoByDefault_setByKeyOrEnvironment_andAnUnknownOneRefusedNamingTheKey() {
    assertThat(KmsConfigLoader.defaults(NO_ENV).rpc().tls().engine()).isEqualTo(TlsEngine.AUTO);
    assertThat(
            KmsConfigLoader.parse(
                    """
                    [rpc.tls]
                    engine = "jdk"
                    """,
                    NO_ENV)
                .rpc()
                .tls()
                .engine())
        .isEqualTo(TlsEngine.JDK);
    assertThat(
            KmsConfigLoader.parse("", Map.of("KMS__RPC__TLS__ENGINE", "openssl"))
                .rpc()
                .tls()
                .engine())
        .isEqualTo(TlsEngine.OPENSSL);
    assertThatThrownBy(
            () ->
                KmsConfigLoader.parse(
                    """
                    [rpc.tls]
                    engine = "gnutls"
                    """,
                    NO_ENV))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("rpc.tls.engine")
        .hasMessageContaining("\"auto\", \"openssl\" or \"jdk\"");
  }

  @Test
  void auditLog_defaultsNextToCertDir_orComesFromCoreAudit() {
    KmsConfig defaults =
        KmsConfigLoader.parse(
            """
            [core]
            cert_dir = "/data/kms/certs"
            """,
            NO_ENV);
    assertThat(defaults.auditLog()).isEqualTo(Path.of("/data/kms/kms-audit.jsonl"));
    assertThat(KmsConfigLoader.defaults(NO_ENV).auditLog())
        .isEqualTo(Path.of("/etc/kms/kms-audit.jsonl"));

    KmsConfig set =
        KmsConfigLoader.parse(
            """
            [core.audit]
            path = "/var/log/kms/audit.jsonl"
            """,
            NO_ENV);
    assertThat(set.auditLog()).isEqualTo(Path.of("/var/log/kms/audit.jsonl"));
    assertThat(
            KmsConfigLoader.parse("", Map.of("KMS__CORE__AUDIT__PATH", "/tmp/a.jsonl")).auditLog())
        .isEqualTo(Path.of("/tmp/a.jsonl"));
    assertThatThrownBy(
            () ->
                KmsConfigLoader.parse(
                    """
                    [core.audit]
                    file = "x"
                    """,
                    NO_ENV))
        .hasMessageContaining("core.audit.file");
  }

  @Test
  void devConfig_keepsTheAuditLogInsideTheStateDir() {
    KmsConfig dev = KmsConfig.forDev(Path.of("/tmp/kms-state"), "127.0.0.1", 0);
    assertThat(dev.auditLog()).isEqualTo(Path.of("/tmp/kms-state/kms-audit.jsonl"));
    assertThat(dev.image().verify()).isFalse();
  }

  @Test
  void upstreamOnlyTrustAnchorKeysAreIgnoredNotRejected() {
    KmsConfig c =
        KmsConfigLoader.parse(
            """
            [core.attestation.urls]
            amd_kds = "https://kdsintf.amd.com/vcek/v1"
            [core.attestation.root_ca]
            sev_snp_milan = "/etc/dstack/roots/amd-milan-ark.pem"
            """,
            NO_ENV);
    assertThat(c.ignoredKeys())
        .containsExactly("core.attestation.urls.amd_kds", "core.attestation.root_ca.sev_snp_milan");
  }

  @ParameterizedTest
  @CsvSource({
    "unknown-top-level.toml,          unknown key rcp (did you mean rpc?)",
    "unknown-nested.toml,             unknown key core.enforce_self_authorisation (did you mean core.enforce_self_authorization?)",
    "unknown-webhook-key.toml,        unknown key core.auth_api.webhook.dealine (did you mean core.auth_api.webhook.deadline?)",
    "unknown-table.toml,              unknown key core.auth_api.webhok (did you mean core.auth_api.webhook?)",
    "unknown-default-key.toml,        unknown key default.wrokers (did you mean default.workers?)",
    "unknown-body-limit-method.toml,  unknown key rpc.body_limits.SignCrt (did you mean rpc.body_limits.SignCert?)",
  })
  void unknownKeysAreRejectedByFullPath(String file, String message) {
    assertThatThrownBy(() -> KmsConfigLoader.load(resource(file), NO_ENV))
        .isInstanceOf(ConfigException.class)
        .hasMessage(message);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "bad-webhook-scheme.toml          | core.auth_api.webhook.url           | core.auth_api.webhook.url must be http(s)",
        "bad-port.toml                    | rpc.port                            | rpc.port must be between 0 and 65535, got 70000",
        "bad-port-type.toml               | rpc.port                            | rpc.port must be an integer, got a string",
        "bad-duration.toml                | core.auth_api.webhook.attempt_timeout | core.auth_api.webhook.attempt_timeout must be a duration",
        "bad-duration-number.toml         | core.auth_api.webhook.connect_timeout | core.auth_api.webhook.connect_timeout must be a duration string",
        "bad-zero-timeout.toml            | core.auth_api.webhook.connect_timeout | core.auth_api.webhook.connect_timeout must be greater than 0",
        "bad-deadline-below-attempt.toml  | core.auth_api.webhook.deadline      | core.auth_api.webhook.deadline must be at least core.auth_api.webhook.attempt_timeout",
        "bad-timeout-too-long.toml        | core.auth_api.webhook.deadline      | core.auth_api.webhook.deadline must be greater than 0 and at most \"5m\"",
        "bad-body-limit-too-large.toml    | rpc.body_limits.SignCert            | rpc.body_limits.SignCert must be between 1KiB and 10MiB, got 11MiB",
        "bad-body-limit-unit.toml         | rpc.body_limits.default             | rpc.body_limits.default has an unknown size unit",
        "bad-auth-type.toml               | core.auth_api.type                  | core.auth_api.type must be \"webhook\" or \"dev\", got \"none\"",
        "bad-admin-no-auth.toml           | core.admin.enabled                  | core.admin.enabled=true needs core.admin.auth_token",
        "bad-root-ca-without-insecure.toml | core.attestation.root_ca.tdx       | core.attestation.root_ca.tdx needs core.attestation.insecure_allow_external_trust_anchors=true",
        "bad-bool-type.toml               | core.enforce_self_authorization     | core.enforce_self_authorization must be true or false, got a string",
        "bad-table-as-value.toml          | core.image                          | core.image must be a table, got a string",
        "bad-download-url.toml            | core.image.download_url             | core.image.download_url must contain {OS_IMAGE_HASH}",
      })
  void invalidValuesNameTheirKey(String file, String key, String messageStart) {
    assertThatThrownBy(() -> KmsConfigLoader.load(resource(file), NO_ENV))
        .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.key()).isEqualTo(key))
        .hasMessageStartingWith(messageStart);
  }

  @Test
  void invalidTomlSyntaxNamesTheFileAndLine() {
    Path file = resource("bad-toml-syntax.toml");
    assertThatThrownBy(() -> KmsConfigLoader.load(file, NO_ENV))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("invalid TOML in " + file)
        .hasMessageContaining("line 1");
  }

  @Test
  void missingFileIsAConfigError() {
    Path missing = Path.of("/nonexistent/kms.toml");
    assertThatThrownBy(() -> KmsConfigLoader.load(missing, NO_ENV))
        .isInstanceOf(ConfigException.class)
        .hasMessage("config file not found: /nonexistent/kms.toml");
  }

  @Test
  void devModeStillChecksTheUnusedWebhookTable() {
    KmsConfig c = KmsConfigLoader.load(resource("dev-with-webhook-leftovers.toml"), NO_ENV);
    assertThat(c.authApi())
        .isEqualTo(new AuthApiConfig.Dev("0123456789abcdef0123456789abcdef01234567"));
    assertThat(c.webhook()).isEmpty();
    assertThat(c.insecureSettings()).containsExactly("core.auth_api.type=dev");

    assertThatThrownBy(
            () ->
                KmsConfigLoader.parse(
                    "[core.auth_api]\ntype = \"dev\"\n[core.auth_api.webhook]\nurll = \"x\"\n",
                    NO_ENV))
        .hasMessage(
            "unknown key core.auth_api.webhook.urll (did you mean core.auth_api.webhook.url?)");
  }

  @Test
  void envOverridesApplyWithTheKeysType() {
    Map<String, String> env =
        Map.of(
            "KMS__CORE__CERT_DIR", "/data/certs", // path
            "KMS__RPC__PORT", "9000", // int
            "KMS__CORE__IMAGE__VERIFY", "false", // bool
            "KMS__CORE__AUTH_API__WEBHOOK__URL", "http://127.0.0.1:8001", // nested string
            "KMS__CORE__AUTH_API__WEBHOOK__DEADLINE", "1m30s", // duration
            "KMS__CORE__AUTH_API__WEBHOOK__MAX_RESPONSE_BYTES", "128KiB", // size
            "KMS__RPC__BODY_LIMITS__SIGNCERT", "512KiB", // method name, case-insensitive
            "KMS__CORE__IMAGE__INSECURE_ALLOW_UNVERIFIED_OS_IMAGE", "true",
            "KMS__CORE__SITE_NAME", "eu-1",
            "PATH", "/usr/bin"); // unrelated variables are left alone
    KmsConfig c = KmsConfigLoader.load(exampleFile(), env);

    assertThat(c.certDir()).isEqualTo(Path.of("/data/certs"));
    assertThat(c.rpc().port()).isEqualTo(9000);
    assertThat(c.image().verify()).isFalse();
    assertThat(c.siteName()).isEqualTo("eu-1");
    AuthApiConfig.Webhook w = c.webhook().orElseThrow();
    assertThat(w.url()).isEqualTo(URI.create("http://127.0.0.1:8001"));
    assertThat(w.client().deadline()).isEqualTo(Duration.ofSeconds(90));
    assertThat(w.client().maxResponseBytes()).isEqualTo(128 * 1024);
    assertThat(c.rpc().bodyLimits().limitFor("SignCert")).isEqualTo(512 * 1024);
    assertThat(c.insecureSettings()).containsExactly("core.image.verify=false");
  }

  @Test
  void imageVerificationOff_needsTheInsecureKeyToo() {
    assertThatThrownBy(() -> KmsConfigLoader.parse("[core.image]\nverify = false\n", Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("core.image.insecure_allow_unverified_os_image = true");
  }

  @Test
  void envOverridesWorkWithoutAFileAndIntoAbsentTables() {
    KmsConfig c =
        KmsConfigLoader.defaults(
            Map.of(
                "KMS__CORE__AUTH_API__TYPE", "dev",
                "KMS__CORE__AUTH_API__DEV__GATEWAY_APP_ID", "gw",
                "KMS__CORE__ADMIN__ENABLED", "TRUE",
                "KMS__CORE__ADMIN__AUTH_TOKEN", "s3cret-token",
                "KMS__CORE__ONBOARD__PORT", "0"));
    assertThat(c.authApi()).isEqualTo(new AuthApiConfig.Dev("gw"));
    assertThat(c.admin().enabled()).isTrue();
    assertThat(c.admin().authToken().reveal()).isEqualTo("s3cret-token");
    assertThat(c.onboard().port()).isZero();
  }

  @Test
  void unknownEnvVarIsRejectedByName() {
    assertThatThrownBy(() -> KmsConfigLoader.defaults(Map.of("KMS__X", "1")))
        .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.key()).isEqualTo("KMS__X"))
        .hasMessage("unknown environment variable KMS__X: there is no config key x");
    assertThatThrownBy(
            () -> KmsConfigLoader.defaults(Map.of("KMS__CORE__AUTH_API__WEBHOOK__DEALINE", "5s")))
        .hasMessage(
            "unknown environment variable KMS__CORE__AUTH_API__WEBHOOK__DEALINE: there is no"
                + " config key core.auth_api.webhook.dealine (did you mean"
                + " KMS__CORE__AUTH_API__WEBHOOK__DEADLINE?)");
    // A table is not a key.
    assertThatThrownBy(() -> KmsConfigLoader.defaults(Map.of("KMS__CORE", "x")))
        .hasMessageStartingWith("unknown environment variable KMS__CORE");
    // Ignored upstream keys cannot be set from the environment either.
    assertThatThrownBy(() -> KmsConfigLoader.defaults(Map.of("KMS__DEFAULT__WORKERS", "4")))
        .hasMessageStartingWith("unknown environment variable KMS__DEFAULT__WORKERS");
  }

  @Test
  void malformedEnvVarNamesAreRejected() {
    for (String name :
        new String[] {"KMS__RPC__port", "KMS__RPC____PORT", "KMS__", "KMS__RPC__PORT_"}) {
      assertThatThrownBy(() -> KmsConfigLoader.defaults(Map.of(name, "1")))
          .as(name)
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining(name);
    }
  }

  @Test
  void invalidEnvValuesNameKeyAndVariable() {
    assertThatThrownBy(() -> KmsConfigLoader.defaults(Map.of("KMS__RPC__PORT", "eighty")))
        .isInstanceOfSatisfying(
            ConfigException.class, e -> assertThat(e.key()).isEqualTo("rpc.port"))
        .hasMessage("rpc.port (from KMS__RPC__PORT) must be an integer");
    assertThatThrownBy(() -> KmsConfigLoader.defaults(Map.of("KMS__RPC__PORT", "65536")))
        .hasMessage("rpc.port must be between 0 and 65535, got 65536");
    assertThatThrownBy(() -> KmsConfigLoader.defaults(Map.of("KMS__CORE__IMAGE__VERIFY", "yes")))
        .hasMessage("core.image.verify (from KMS__CORE__IMAGE__VERIFY) must be true or false");
    assertThatThrownBy(
            () ->
                KmsConfigLoader.defaults(
                    Map.of("KMS__CORE__AUTH_API__WEBHOOK__BREAKER_RESET", "soon")))
        .hasMessageStartingWith(
            "core.auth_api.webhook.breaker_reset (from KMS__CORE__AUTH_API__WEBHOOK__BREAKER_RESET)"
                + " must be a duration");
    assertThatThrownBy(
            () -> KmsConfigLoader.defaults(Map.of("KMS__CORE__AUTH_API__WEBHOOK__URL", "auth-api")))
        .hasMessageStartingWith("core.auth_api.webhook.url must be http(s)");
  }

  @Test
  void adminTokenComesFromDstackEnvVarsInOrder() {
    String toml = "[core.admin]\nenabled = true\n";
    assertThat(
            KmsConfigLoader.parse(toml, Map.of("ADMIN_API_TOKEN", " second "))
                .admin()
                .authToken()
                .reveal())
        .isEqualTo("second");
    assertThat(
            KmsConfigLoader.parse(
                    toml, Map.of("DSTACK_KMS_ADMIN_TOKEN", "first", "ADMIN_API_TOKEN", "second"))
                .admin()
                .authToken()
                .reveal())
        .isEqualTo("first");
    // The file's token wins, trimmed.
    assertThat(
            KmsConfigLoader.parse(
                    toml + "auth_token = \" file \"\n", Map.of("DSTACK_KMS_ADMIN_TOKEN", "first"))
                .admin()
                .authToken()
                .reveal())
        .isEqualTo("file");
    // Blank variables do not count as a token.
    assertThatThrownBy(() -> KmsConfigLoader.parse(toml, Map.of("DSTACK_KMS_ADMIN_TOKEN", "  ")))
        .hasMessageStartingWith("core.admin.enabled=true needs");
  }

  @Test
  void adminMayUseHtpasswdOrExplicitNoAuth() {
    KmsConfig h =
        KmsConfigLoader.parse(
            "[core.admin]\nenabled = true\nhtpasswd_file = \"/etc/kms/htpasswd\"\n", NO_ENV);
    assertThat(h.admin().htpasswdFile()).contains(Path.of("/etc/kms/htpasswd"));
    assertThat(h.insecureSettings()).isEmpty();

    KmsConfig n =
        KmsConfigLoader.parse("[core.admin]\nenabled = true\ninsecure_no_auth = true\n", NO_ENV);
    assertThat(n.insecureSettings()).containsExactly("core.admin.insecure_no_auth=true");
  }

  @Test
  void adminPortMustNotCollideWithRpcPort() {
    assertThatThrownBy(
            () ->
                KmsConfigLoader.parse(
                    "[rpc]\nport = 8001\n[core.admin]\nenabled = true\nauth_token = \"t\"\n",
                    NO_ENV))
        .hasMessage("core.admin.port must differ from rpc.port (8001)");
  }

  @Test
  void adminToStringRedactsTheToken() {
    KmsConfig c =
        KmsConfigLoader.parse(
            "[core.admin]\nenabled = true\nauth_token = \"hunter2-very-secret\"\n", NO_ENV);
    assertThat(c.admin().toString()).doesNotContain("hunter2").contains("authToken=<redacted>");
    assertThat(c.toString()).doesNotContain("hunter2");
    assertThat(c.admin().authToken().reveal()).isEqualTo("hunter2-very-secret");
  }

  @Test
  void typeErrorsNeverEchoTheValue() {
    assertThatThrownBy(
            () -> KmsConfigLoader.parse("[core.admin]\nauth_token = 123456789\n", NO_ENV))
        .hasMessage("core.admin.auth_token must be a string, got an integer")
        .message()
        .doesNotContain("123456789");
  }

  @Test
  void insecureSettingsListsEveryWeakening() {
    KmsConfig c =
        KmsConfigLoader.parse(
            """
            [core]
            enforce_self_authorization = false
            attest_rpc_cert = false
            sev_snp_key_release = true
            [core.attestation]
            insecure_allow_external_trust_anchors = true
            [core.attestation.root_ca]
            tdx = "/tmp/root.der"
            [core.image]
            verify = false
            insecure_allow_unverified_os_image = true
            [core.admin]
            insecure_no_auth = true
            [core.auth_api]
            type = "dev"
            """,
            NO_ENV);
    assertThat(c.insecureSettings())
        .containsExactlyInAnyOrder(
            "core.enforce_self_authorization=false",
            "core.attest_rpc_cert=false",
            "core.image.verify=false",
            "core.auth_api.type=dev",
            "core.attestation.insecure_allow_external_trust_anchors=true",
            "core.attestation.root_ca.tdx (set)",
            "core.admin.insecure_no_auth=true",
            "core.sev_snp_key_release=true");
    assertThat(c.attestation().tdxRootCa()).contains(Path.of("/tmp/root.der"));
  }

  @Test
  void pccsUrlIsOptionalAndValidated() {
    assertThat(
            KmsConfigLoader.parse(
                    "[core.attestation.urls]\npccs = \"https://pccs.example.com/sgx/\"\n", NO_ENV)
                .attestation()
                .pccsUrl())
        .contains(URI.create("https://pccs.example.com/sgx/"));
    assertThat(
            KmsConfigLoader.parse("[core.attestation.urls]\npccs = \"\"\n", NO_ENV)
                .attestation()
                .pccsUrl())
        .isEqualTo(Optional.empty());
    assertThatThrownBy(
            () -> KmsConfigLoader.parse("[core.attestation.urls]\npccs = \"file:///x\"\n", NO_ENV))
        .hasMessageStartingWith("core.attestation.urls.pccs must be http(s)");
  }

  @Test
  void webhookUrlMustNotCarryCredentials() {
    assertThatThrownBy(
            () ->
                KmsConfigLoader.parse(
                    "[core.auth_api.webhook]\nurl = \"http://user:pw@auth-api:8000\"\n", NO_ENV))
        .hasMessage("core.auth_api.webhook.url must not carry credentials")
        .message()
        .doesNotContain("pw");
  }

  @Test
  void bodyLimitsAcceptIntegersAndUnits() {
    KmsConfig c =
        KmsConfigLoader.parse(
            """
            [rpc.body_limits]
            default = 32768
            GetAppKey = "256KiB"
            Bootstrap = "2 MiB"
            """,
            NO_ENV);
    BodyLimits l = c.rpc().bodyLimits();
    assertThat(l.limitFor("GetMeta")).isEqualTo(32768);
    assertThat(l.limitFor("GetAppKey")).isEqualTo(256 * 1024);
    assertThat(l.limitFor("KMS.GetAppKey")).isEqualTo(256 * 1024);
    assertThat(l.limitFor("Onboard.Bootstrap")).isEqualTo(2 * 1024 * 1024);
    assertThat(l.limitFor("SignCert")).isEqualTo(1024 * 1024); // built-in entry kept
    assertThat(l.limitFor("NoSuchMethod")).isEqualTo(32768);
    assertThat(l.maxLimit()).isEqualTo(2 * 1024 * 1024);
    assertThatThrownBy(() -> KmsConfigLoader.parse("[rpc.body_limits]\ndefault = 64\n", NO_ENV))
        .hasMessage("rpc.body_limits.default must be between 1KiB and 10MiB, got 64B");
  }

  @Test
  void webhookTimeoutsAreCrossChecked() {
    assertThatThrownBy(
            () ->
                KmsConfigLoader.parse(
                    "[core.auth_api.webhook]\nconnect_timeout = \"4s\"\n", NO_ENV))
        .hasMessageStartingWith(
            "core.auth_api.webhook.connect_timeout must not exceed"
                + " core.auth_api.webhook.attempt_timeout");
    assertThatThrownBy(
            () ->
                KmsConfigLoader.parse(
                    "[core.auth_api.webhook]\ninfo_refresh = \"2h\"\ninfo_max_stale = \"1h\"\n",
                    NO_ENV))
        .hasMessage(
            "core.auth_api.webhook.info_max_stale must be at least"
                + " core.auth_api.webhook.info_refresh");
    assertThatThrownBy(
            () -> KmsConfigLoader.parse("[core.auth_api.webhook]\nmax_retries = 9\n", NO_ENV))
        .hasMessage("core.auth_api.webhook.max_retries must be between 0 and 5, got 9");
  }

  @Test
  void dottedKeysAndInlineTablesAreTheSameKeys() {
    KmsConfig c =
        KmsConfigLoader.parse(
            "core.image.verify = true\nrpc = { port = 0, tls = { key = \"/k\" } }\n", NO_ENV);
    assertThat(c.rpc().port()).isZero();
    assertThat(c.rpc().tls().key()).isEqualTo(Path.of("/k"));
    assertThatThrownBy(() -> KmsConfigLoader.parse("rpc = { prot = 1 }\n", NO_ENV))
        .hasMessage("unknown key rpc.prot (did you mean rpc.port?)");
  }

  @Test
  void forDevPutsStateUnderOneDirectory() {
    Path state = Path.of("/tmp/kms-dev");
    KmsConfig c = KmsConfig.forDev(state, "127.0.0.1", 0);
    assertThat(c.certDir()).isEqualTo(state);
    assertThat(c.rpc().address()).isEqualTo("127.0.0.1");
    assertThat(c.rpc().port()).isZero();
    assertThat(c.rpc().tls().key()).isEqualTo(state.resolve("rpc.key"));
    assertThat(c.rpc().tls().certs()).isEqualTo(state.resolve("rpc.crt"));
    assertThat(c.rpc().tls().mutual().caCerts()).isEqualTo(state.resolve("tmp-ca.crt"));
    assertThat(c.authApi()).isInstanceOf(AuthApiConfig.Dev.class);
    assertThat(c.onboard().enabled()).isFalse();
    assertThat(c.image().verify()).isFalse();
    assertThat(c.attestRpcCert()).isTrue();
    assertThat(c.enforceSelfAuthorization()).isFalse();
    assertThat(c.admin().enabled()).isFalse();
    assertThat(c.insecureSettings())
        .containsExactlyInAnyOrder(
            "core.enforce_self_authorization=false",
            "core.image.verify=false",
            "core.auth_api.type=dev");
  }
}
