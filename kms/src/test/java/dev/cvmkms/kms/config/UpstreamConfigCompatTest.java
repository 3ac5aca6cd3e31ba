package dev.cvmkms.kms.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every kms.toml that dstack released (v0.4.2 … v0.5.11, main) and the one its full-stack suite
 * renders loads here, with upstream's effective settings for the keys we share. Fixtures and their
 * provenance: {@code src/test/resources/config/upstream/}.
 */
class UpstreamConfigCompatTest {
  private static final Map<String, String> NO_ENV = Map.of();

  private static final String[] RELEASES = {
    "v0.4.2", "v0.5.0", "v0.5.1", "v0.5.2", "v0.5.3", "v0.5.4", "v0.5.5", "v0.5.6", "v0.5.7",
    "v0.5.8", "v0.5.9", "v0.5.10", "v0.5.11", "HEAD"
  };

  private static final List<String> ROCKET_DEFAULTS =
      List.of(
          "default.workers",
          "default.max_blocking",
          "default.ident",
          "default.temp_dir",
          "default.keep_alive",
          "default.log_level");

  static Path fixture(String name) {
    return KmsConfigLoaderTest.resource("upstream/" + name);
  }

  /** Minor version of a release tag (v0.5.9 → 9), HEAD counts as later than every release. */
  private static int minor(String version) {
    if (version.equals("HEAD")) return Integer.MAX_VALUE;
    String[] p = version.substring(1).split("\\.", -1);
    return p[1].equals("4") ? -1 : Integer.parseInt(p[2]); // v0.4.2 comes before v0.5.0
  }

  @Test
  void fixturesAreByteCopiesOfTheUpstreamBlobsInTheReadme() throws Exception {
    String readme = Files.readString(fixture("README.md").getParent().resolve("README.md"), UTF8);
    Matcher row =
        Pattern.compile("\\| (kms-[^ ]+\\.toml) \\| [^|]+ \\| [^|]+ \\| ([0-9a-f]{40}) \\|")
            .matcher(readme);
    List<String> seen = new ArrayList<>();
    while (row.find()) {
      assertThat(gitBlobId(fixture(row.group(1)))).as(row.group(1)).isEqualTo(row.group(2));
      seen.add(row.group(1));
    }
    List<String> expected = new ArrayList<>();
    for (String v : RELEASES) expected.add("kms-" + v + ".toml");
    assertThat(seen).containsExactlyElementsOf(expected);

    Matcher fullStack = Pattern.compile("its git blob id here is ([0-9a-f]{40})").matcher(readme);
    assertThat(fullStack.find()).isTrue();
    assertThat(gitBlobId(fixture("full-stack-compose-kms.toml"))).isEqualTo(fullStack.group(1));
  }

  private static final java.nio.charset.Charset UTF8 = StandardCharsets.UTF_8;

  private static String gitBlobId(Path file) throws Exception {
    byte[] content = Files.readAllBytes(file);
    MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
    sha1.update(("blob " + content.length + "\0").getBytes(StandardCharsets.US_ASCII));
    return HexFormat.of().formatHex(sha1.digest(content));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "v0.4.2", "v0.5.0", "v0.5.1", "v0.5.2", "v0.5.3", "v0.5.4", "v0.5.5", "v0.5.6", "v0.5.7",
        "v0.5.8", "v0.5.9", "v0.5.10", "v0.5.11", "HEAD"
      })
  void releasedKmsTomlLoadsWithUpstreamsEffectiveSettings(String version) {
    ConfigCheck check = KmsConfigLoader.check(fixture("kms-" + version + ".toml"), NO_ENV);
    KmsConfig c = check.config();
    int minor = minor(version);

    // Listener, TLS paths and cert dir: every release ships the same values.
    assertThat(c.rpc().address()).isEqualTo("0.0.0.0");
    assertThat(c.rpc().port()).isEqualTo(8000);
    assertThat(c.rpc().tls().key()).isEqualTo(Path.of("/etc/kms/certs/rpc.key"));
    assertThat(c.rpc().tls().certs()).isEqualTo(Path.of("/etc/kms/certs/rpc.crt"));
    assertThat(c.rpc().tls().mutual().caCerts()).isEqualTo(Path.of("/etc/kms/certs/tmp-ca.crt"));
    assertThat(c.rpc().tls().mutual().mandatory()).isFalse();
    assertThat(c.certDir()).isEqualTo(Path.of("/etc/kms/certs"));
    // Auth API: the webhook at auth-api:8000.
    assertThat(c.webhook().orElseThrow().url()).isEqualTo(URI.create("http://auth-api:8000"));
    // Onboarding: on, interactive, on 0.0.0.0:8000 while keys are missing.
    assertThat(c.onboard()).isEqualTo(new OnboardConfig(true, "", "0.0.0.0", 8000));
    // Image verification: upstream added [core.image] in v0.5.1 with verify = true; before that
    // it had none, and our default (verify) is the stricter one.
    assertThat(c.image().verify()).isTrue();
    assertThat(c.image().cacheDir()).isEqualTo(Path.of("/usr/share/dstack/images"));
    assertThat(c.image().downloadUrlFor("ab")).isEqualTo("http://localhost:8000/ab.tar.gz");
    assertThat(c.image().downloadTimeout()).isEqualTo(Duration.ofMinutes(2));
    // Keys that appeared later (enforce_self_authorization v0.5.9, metrics v0.5.10, site_name
    // v0.5.11, the rest on main) carry the value upstream gives them, which is our default too.
    assertThat(c.enforceSelfAuthorization()).isTrue();
    assertThat(c.metrics().enabled()).isTrue();
    assertThat(c.siteName()).isEmpty();
    assertThat(c.attestRpcCert()).isTrue();
    assertThat(c.sevSnpKeyRelease()).isFalse();
    assertThat(c.awsNitroTpmKeyRelease()).isFalse();
    assertThat(c.attestation()).isEqualTo(AttestationConfig.defaults());
    assertThat(c.admin().enabled()).isFalse();
    // admin_token_hash = "" in v0.5.1 … v0.5.11: no credential, as upstream (nothing matched).
    assertThat(c.admin().authTokenHash()).isEmpty();
    assertThat(c.insecureSettings()).isEmpty();

    List<String> ignored = new ArrayList<>(ROCKET_DEFAULTS);
    ignored.add("core.subject_postfix");
    if (minor <= 8) ignored.add("core.onboard.quote_enabled");
    assertThat(c.ignoredKeys()).containsExactlyInAnyOrderElementsOf(ignored);

    List<String> upstream = new ArrayList<>(ignored);
    if (minor >= 1 && minor <= 11) upstream.add("core.admin_token_hash");
    assertThat(check.upstreamKeys())
        .extracting(UpstreamKeys.Entry::path)
        .containsExactlyInAnyOrderElementsOf(upstream)
        .doesNotHaveDuplicates();
  }

  @Test
  void fullStackSuitesRenderedConfigLoads() {
    ConfigCheck check = KmsConfigLoader.check(fixture("full-stack-compose-kms.toml"), NO_ENV);
    KmsConfig c = check.config();
    assertThat(c.certDir()).isEqualTo(Path.of("/kms/certs"));
    assertThat(c.rpc().tls().key()).isEqualTo(Path.of("/kms/certs/rpc.key"));
    assertThat(c.rpc().tls().certs()).isEqualTo(Path.of("/kms/certs/rpc.crt"));
    assertThat(c.rpc().tls().mutual().caCerts()).isEqualTo(Path.of("/kms/certs/tmp-ca.crt"));
    assertThat(c.rpc().port()).isEqualTo(8000);
    assertThat(c.image().verify()).isTrue();
    assertThat(c.image().cacheDir()).isEqualTo(Path.of("/kms/images"));
    assertThat(c.image().downloadUrlFor("ab")).isEqualTo("http://10.0.2.2:38081/os/mr_ab.tar.gz");
    assertThat(c.webhook().orElseThrow().url()).isEqualTo(URI.create("http://10.0.2.2:28011"));
    assertThat(c.enforceSelfAuthorization()).isTrue();
    assertThat(c.metrics().enabled()).isTrue();
    assertThat(c.onboard()).isEqualTo(new OnboardConfig(true, "", "0.0.0.0", 8000));
    // pccs_url = "" meant "the default PCCS" upstream, as an unset urls.pccs does here.
    assertThat(c.attestation().pccsUrl()).isEmpty();
    assertThat(c.admin().authTokenHash()).isEmpty();
    assertThat(c.insecureSettings()).isEmpty();
    assertThat(c.ignoredKeys()).containsExactly("core.onboard.quote_enabled");
    assertThat(check.upstreamKeys())
        .extracting(UpstreamKeys.Entry::path)
        .containsExactly("core.pccs_url", "core.admin_token_hash", "core.onboard.quote_enabled");
  }

  @Test
  void quoteEnabledFalseChangesNothing() throws Exception {
    String v058 = Files.readString(fixture("kms-v0.5.8.toml"));
    assertThat(v058).contains("quote_enabled = true");
    KmsConfig on = KmsConfigLoader.parse(v058, NO_ENV);
    KmsConfig off =
        KmsConfigLoader.parse(
            v058.replace("quote_enabled = true", "quote_enabled = false"), NO_ENV);
    KmsConfig absent = KmsConfigLoader.parse(v058.replace("quote_enabled = true", ""), NO_ENV);

    assertThat(off).isEqualTo(on);
    assertThat(off.insecureSettings()).isEmpty();
    assertThat(off.enforceSelfAuthorization()).isTrue();
    assertThat(off.attestRpcCert()).isTrue();
    // Apart from the report of the key itself, off is the same as not having the key at all.
    assertThat(off.ignoredKeys()).contains("core.onboard.quote_enabled");
    assertThat(absent.ignoredKeys()).doesNotContain("core.onboard.quote_enabled");
    assertThat(withoutIgnored(off)).isEqualTo(withoutIgnored(absent));
    assertThat(UpstreamKeys.lookup("core.onboard.quote_enabled").orElseThrow().notice())
        .contains("retired upstream in v0.5.9")
        .contains("quotes are always required")
        .contains("GHSA-8v4c-4j4w-gwgv");
    // Not a value the loader interprets at all: any type is accepted and ignored alike.
    assertThat(
            KmsConfigLoader.parse("[core.onboard]\nquote_enabled = \"no\"\n", NO_ENV)
                .insecureSettings())
        .isEmpty();
  }

  private static KmsConfig withoutIgnored(KmsConfig c) {
    return new KmsConfig(
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
        List.of(),
        c.auditLog());
  }

  @Test
  void retiredKeysNameTheUpstreamVersionThatRetiredThem() {
    assertThat(UpstreamKeys.lookup("core.pccs_url").orElseThrow().notice())
        .startsWith("core.pccs_url: retired upstream after v0.5.11")
        .contains("core.attestation.urls.pccs");
    assertThat(UpstreamKeys.lookup("core.admin_token_hash").orElseThrow().notice())
        .startsWith("core.admin_token_hash: retired upstream after v0.5.11")
        .contains("SHA-256");
    assertThat(UpstreamKeys.lookup("core.subject_postfix").orElseThrow().notice())
        .isEqualTo(
            "core.subject_postfix: accepted and ignored: in every dstack kms.toml, but read by no"
                + " dstack version");
  }

  // --- core.pccs_url: the PCCS URL when [core.attestation.urls] pccs is unset -------------------

  @Test
  void pccsUrlIsThePccsWhenUrlsPccsIsUnset() {
    KmsConfig c =
        KmsConfigLoader.parse(
            "[core]\npccs_url = \"https://pccs.phala.network/sgx/certification/v4\"\n", NO_ENV);
    assertThat(c.attestation().pccsUrl())
        .contains(URI.create("https://pccs.phala.network/sgx/certification/v4"));
    assertThat(c.ignoredKeys()).isEmpty(); // it is read, not ignored
  }

  @Test
  void pccsUrlAndUrlsPccs_sameServiceIsFine_differentIsAnError() {
    String both = "[core]\npccs_url = \"%s\"\n[core.attestation.urls]\npccs = \"%s\"\n";
    KmsConfig same =
        KmsConfigLoader.parse(
            both.formatted(
                "https://pccs.example.com/sgx/certification/v4/", "https://pccs.example.com"),
            NO_ENV);
    assertThat(same.attestation().pccsUrl()).contains(URI.create("https://pccs.example.com"));

    assertThatThrownBy(
            () ->
                KmsConfigLoader.parse(
                    both.formatted("https://a.example.com", "https://b.example.com"), NO_ENV))
        .isInstanceOfSatisfying(
            ConfigException.class, e -> assertThat(e.key()).isEqualTo("core.pccs_url"))
        .hasMessageStartingWith(
            "core.pccs_url and core.attestation.urls.pccs are both set and differ");
    // The environment's urls.pccs counts as set.
    assertThatThrownBy(
            () ->
                KmsConfigLoader.parse(
                    "[core]\npccs_url = \"https://a.example.com\"\n",
                    Map.of("KMS__CORE__ATTESTATION__URLS__PCCS", "https://b.example.com")))
        .hasMessageStartingWith("core.pccs_url and core.attestation.urls.pccs");
    // An empty pccs_url is "unset", as upstream.
    assertThat(
            KmsConfigLoader.parse(both.formatted("", "https://b.example.com"), NO_ENV)
                .attestation()
                .pccsUrl())
        .contains(URI.create("https://b.example.com"));
  }

  @Test
  void pccsUrlIsValidatedAsTheSettingItBecomes() {
    assertThatThrownBy(() -> KmsConfigLoader.parse("[core]\npccs_url = \"ftp://x\"\n", NO_ENV))
        .hasMessageStartingWith("core.pccs_url must be http(s)");
    assertThatThrownBy(() -> KmsConfigLoader.parse("[core]\npccs_url = 1\n", NO_ENV))
        .hasMessage("core.pccs_url must be a string, got an integer");
    // Upstream never read the environment; retired keys have no KMS__ variable either.
    assertThatThrownBy(
            () -> KmsConfigLoader.defaults(Map.of("KMS__CORE__PCCS_URL", "https://x.example")))
        .hasMessageStartingWith("unknown environment variable KMS__CORE__PCCS_URL");
  }

  // --- core.admin_token_hash: dstack's admin credential, SHA-256 of the token as hex -----------

  private static String sha256Hex(String s) throws Exception {
    return HexFormat.of()
        .formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void adminTokenHashIsAnAdminCredentialInUpstreamsForm() throws Exception {
    String token = "Zq3vTn8LwP0aRk5sYd2mXc7uHb4eJf9g";
    KmsConfig c =
        KmsConfigLoader.parse(
            "[core]\nadmin_token_hash = \""
                + sha256Hex(token).toUpperCase(Locale.ROOT)
                + "\"\n"
                + "[core.admin]\nenabled = true\n",
            NO_ENV);
    // The hash alone satisfies the admin listener's fail-closed check.
    assertThat(c.admin().enabled()).isTrue();
    assertThat(c.admin().authToken().isEmpty()).isTrue();
    assertThat(c.admin().acceptsToken(token)).isTrue();
    assertThat(c.admin().acceptsToken(token + "x")).isFalse();
    assertThat(c.admin().acceptsToken("")).isFalse();
    assertThat(c.insecureSettings()).isEmpty();
    assertThat(c.toString()).doesNotContain(sha256Hex(token)).doesNotContain(token);

    // Both forms at once: either credential works.
    KmsConfig both =
        KmsConfigLoader.parse(
            "[core]\nadmin_token_hash = \""
                + sha256Hex(token)
                + "\"\n"
                + "[core.admin]\nenabled = true\nauth_token = \"other-token\"\n",
            NO_ENV);
    assertThat(both.admin().acceptsToken(token)).isTrue();
    assertThat(both.admin().acceptsToken("other-token")).isTrue();
    assertThat(both.admin().acceptsToken("nope")).isFalse();
  }

  @Test
  void adminTokenHashMustBeASha256Digest() {
    assertThatThrownBy(
            () -> KmsConfigLoader.parse("[core]\nadmin_token_hash = \"not-hex\"\n", NO_ENV))
        .isInstanceOfSatisfying(
            ConfigException.class, e -> assertThat(e.key()).isEqualTo("core.admin_token_hash"))
        .hasMessage("core.admin_token_hash must be hex (the SHA-256 of the admin token)");
    assertThatThrownBy(() -> KmsConfigLoader.parse("[core]\nadmin_token_hash = \"abcd\"\n", NO_ENV))
        .hasMessageStartingWith("core.admin_token_hash must be a SHA-256 digest (64 hex digits")
        .hasMessageEndingWith("got 2 bytes");
    // Empty is upstream's default: no credential, and an enabled admin listener still needs one.
    assertThatThrownBy(
            () ->
                KmsConfigLoader.parse(
                    "[core]\nadmin_token_hash = \"\"\n[core.admin]\nenabled = true\n", NO_ENV))
        .hasMessageStartingWith("core.admin.enabled=true needs");
  }

  // --- unknown keys: still errors, with the closest known key ----------------------------------

  @ParameterizedTest
  @org.junit.jupiter.params.provider.CsvSource(
      delimiter = '|',
      value = {
        "[core.onboard]\\nquote_enabld = true   | unknown key core.onboard.quote_enabld (did you mean core.onboard.quote_enabled?)",
        "[core]\\npccs_ulr = \"\"               | unknown key core.pccs_ulr (did you mean core.pccs_url?)",
        "[core]\\nadmin_token_hsh = \"\"        | unknown key core.admin_token_hsh (did you mean core.admin_token_hash?)",
        "[core.image]\\nverfy = false           | unknown key core.image.verfy (did you mean core.image.verify?)",
        "[core]\\nverify = false                | unknown key core.verify (did you mean core.image.verify?)",
        "[rpc]\\nwrokers = 4                    | unknown key rpc.wrokers (did you mean rpc.workers?)",
        "[core.auth_api.webhook]\\nulr = \"x\"  | unknown key core.auth_api.webhook.ulr (did you mean core.auth_api.webhook.url?)",
        "[core]\\nbananas = 1                   | unknown key core.bananas",
      })
  void misspellingsFailWithTheClosestKnownKey(String toml, String message) {
    assertThatThrownBy(() -> KmsConfigLoader.parse(toml.replace("\\n", "\n"), NO_ENV))
        .isInstanceOf(ConfigException.class)
        .hasMessage(message);
  }

  @Test
  void rocketSettingsUpstreamHandedToItsServerAreAcceptedAndReported() {
    KmsConfig c =
        KmsConfigLoader.parse(
            """
            [rpc]
            workers = 4
            ident = false
            [rpc.limits]
            json = "1MiB"
            [rpc.shutdown]
            grace = 5
            [rpc.tls]
            prefer_server_cipher_order = true
            [core.onboard]
            keep_alive = 5
            """,
            NO_ENV);
    assertThat(c.ignoredKeys())
        .containsExactlyInAnyOrder(
            "rpc.workers",
            "rpc.ident",
            "rpc.limits",
            "rpc.shutdown",
            "rpc.tls.prefer_server_cipher_order",
            "core.onboard.keep_alive");
    // A Rocket table name is not a value key, and a value key is not a table.
    assertThatThrownBy(() -> KmsConfigLoader.parse("[rpc.workers]\nx = 1\n", NO_ENV))
        .hasMessageStartingWith("unknown key rpc.workers");
  }

  @Test
  void tlsOnThePlainHttpListenersIsRefusedNotDropped() {
    assertThatThrownBy(
            () ->
                KmsConfigLoader.parse("[core.onboard.tls]\nkey = \"/k\"\ncerts = \"/c\"\n", NO_ENV))
        .isInstanceOfSatisfying(
            ConfigException.class, e -> assertThat(e.key()).isEqualTo("core.onboard.tls"))
        .hasMessageContaining("TLS on the onboard listener is not supported here");
  }

  @Test
  void effectiveSettingsRedactSecretsAndNameTheirSource() throws Exception {
    Path file = Files.createTempFile("kms-effective", ".toml");
    try {
      Files.writeString(
          file,
          """
          [core]
          pccs_url = "https://pccs.example.com"
          admin_token_hash = "%s"
          [core.admin]
          auth_token = "hunter2-file-token"
          """
              .formatted(sha256Hex("t")));
      ConfigCheck check = KmsConfigLoader.check(file, Map.of("KMS__RPC__PORT", "9443"));
      Map<String, String> e = check.effective();
      assertThat(e)
          .containsEntry("rpc.port", "9443 (from KMS__RPC__PORT)")
          .containsEntry("core.cert_dir", "\"/etc/kms/certs\"")
          .containsEntry("core.admin.auth_token", "<redacted>")
          .containsEntry("core.admin_token_hash", "<redacted sha256>")
          .containsEntry(
              "core.attestation.urls.pccs", "\"https://pccs.example.com\" (from core.pccs_url)")
          .containsEntry("core.image.verifier_url", "unset")
          .containsEntry("rpc.body_limits.SignCert", "\"1MiB\"")
          .containsEntry("rpc.body_limits.GetMeta", "\"64KiB\"")
          .containsEntry("core.auth_api.webhook.deadline", "\"5s\"");
      assertThat(e.toString()).doesNotContain("hunter2").doesNotContain(sha256Hex("t"));
      // Every key of the schema is shown.
      assertThat(e.keySet()).containsAll(KmsConfigLoader.keys());
    } finally {
      Files.deleteIfExists(file);
    }
  }
}
