package dev.cvmkms.kms.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.cvmkms.kms.config.ConfigCheck;
import dev.cvmkms.kms.config.KmsConfigLoader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;

/** {@code kms serve --check-config}: exit codes, output, redaction, nothing started. */
class ServeCheckConfigTest {
  @TempDir Path tmp;

  private record Run(int code, String out, String err) {}

  private static Path upstream(String name) {
    URL url = ServeCheckConfigTest.class.getResource("/config/upstream/" + name);
    assertThat(url).as(name).isNotNull();
    try {
      return Path.of(url.toURI());
    } catch (URISyntaxException e) {
      throw new AssertionError(e);
    }
  }

  private static Run run(Map<String, String> env, String... args) {
    ServeCommand serve = new ServeCommand();
    serve.env = env;
    CommandLine cli = new CommandLine(serve);
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int code = cli.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  private Path write(String toml) throws Exception {
    Path f = Files.createTempFile(tmp, "kms", ".toml");
    Files.writeString(f, toml);
    return f;
  }

  @Test
  void releasedConfigChecksOk_withEffectiveSettingsAndRetiredKeys() {
    Run r = run(Map.of(), "--config", upstream("kms-v0.5.8.toml").toString(), "--check-config");
    assertThat(r.code()).isZero();
    assertThat(r.out())
        .contains("core.cert_dir = \"/etc/kms/certs\"")
        .contains("rpc.port = 8000")
        .contains("rpc.tls.key = \"/etc/kms/certs/rpc.key\"")
        .contains("core.auth_api.webhook.url = \"http://auth-api:8000\"")
        .contains("core.onboard.enabled = true")
        .contains("core.image.verify = true")
        .contains(
            "#   core.onboard.quote_enabled: accepted and ignored: retired upstream in v0.5.9")
        .contains("#   core.admin_token_hash: retired upstream after v0.5.11")
        .contains("#   default.workers: accepted and ignored")
        .contains("# insecure settings (need --allow-insecure): none")
        .contains("core.image.verify = true without core.image.verifier_url")
        .endsWith("result: OK, kms serve would start with this config" + System.lineSeparator());
  }

  @Test
  void everyUpstreamFixtureChecksOk() {
    for (String f :
        new String[] {
          "kms-v0.4.2.toml",
          "kms-v0.5.3.toml",
          "kms-v0.5.9.toml",
          "kms-v0.5.11.toml",
          "kms-HEAD.toml",
          "full-stack-compose-kms.toml"
        }) {
      assertThat(run(Map.of(), "-c", upstream(f).toString(), "--check-config").code())
          .as(f)
          .isZero();
    }
  }

  @Test
  void secretsAreRedacted() throws Exception {
    Path f =
        write(
            """
            [core]
            admin_token_hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
            [core.admin]
            enabled = true
            auth_token = "hunter2-file-token"
            """);
    Run r = run(Map.of(), "-c", f.toString(), "--check-config");
    assertThat(r.code()).isZero();
    assertThat(r.out())
        .contains("core.admin.auth_token = <redacted>")
        .contains("core.admin_token_hash = <redacted sha256>")
        .contains("this build serves no admin listener yet")
        .doesNotContain("hunter2")
        .doesNotContain("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");

    Path g = write("[core.admin]\nenabled = true\n");
    Run e =
        run(
            Map.of("DSTACK_KMS_ADMIN_TOKEN", "env-secret-value"),
            "-c",
            g.toString(),
            "--check-config");
    assertThat(e.code()).isZero();
    assertThat(e.out())
        .contains("core.admin.auth_token = <redacted> (from DSTACK_KMS_ADMIN_TOKEN)")
        .doesNotContain("env-secret-value");
  }

  @Test
  void invalidConfigExitsOneWithTheSuggestion() throws Exception {
    Path f = write("[core.onboard]\nquote_enabld = false\n");
    Run r = run(Map.of(), "-c", f.toString(), "--check-config");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.out())
        .isEqualTo(
            "result: INVALID, unknown key core.onboard.quote_enabld (did you mean"
                + " core.onboard.quote_enabled?)"
                + System.lineSeparator());
    assertThat(r.err()).contains("unknown key core.onboard.quote_enabld");

    Run missing = run(Map.of(), "-c", tmp.resolve("nope.toml").toString(), "--check-config");
    assertThat(missing.code()).isEqualTo(1);
    assertThat(missing.out()).startsWith("result: INVALID, config file not found");
  }

  @Test
  void insecureSettingsExitOneUnlessAllowed() throws Exception {
    Path f = write("[core.auth_api]\ntype = \"dev\"\n");
    Run refused = run(Map.of(), "-c", f.toString(), "--check-config");
    assertThat(refused.code()).isEqualTo(1);
    assertThat(refused.out())
        .contains("#   core.auth_api.type=dev")
        .contains("result: REFUSED, insecure settings without --allow-insecure");
    Run allowed = run(Map.of(), "-c", f.toString(), "--check-config", "--allow-insecure");
    assertThat(allowed.code()).isZero();
  }

  @Test
  void checkingStartsNothingAndTouchesNothing() throws Exception {
    Path certDir = tmp.resolve("certs-not-created");
    Path f =
        write(
            """
            [rpc]
            port = 0
            [core]
            cert_dir = "%s"
            [core.onboard]
            auto_bootstrap_domain = "kms.example.com"
            """
                .formatted(certDir));
    Run r = run(Map.of(), "-c", f.toString(), "--check-config");
    assertThat(r.code()).isZero(); // returned: no listener keeps the command running (-1)
    assertThat(certDir).doesNotExist();
    assertThat(certDir.resolveSibling("kms-audit.jsonl")).doesNotExist();
  }

  @Test
  void eachUpstreamKeyIsLoggedOnceAtStartUp() {
    ConfigCheck check = KmsConfigLoader.check(upstream("full-stack-compose-kms.toml"), Map.of());
    Logger logger = (Logger) LoggerFactory.getLogger("test.ServeCheckConfigTest");
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    logger.setLevel(Level.INFO); // the test config logs WARN and above only
    logger.addAppender(appender);
    try {
      ConfigReport.logUpstreamKeys(check, logger);
    } finally {
      logger.detachAppender(appender);
    }
    List<String> lines = appender.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    for (String key :
        List.of("core.pccs_url", "core.admin_token_hash", "core.onboard.quote_enabled")) {
      assertThat(lines.stream().filter(l -> l.startsWith("config " + key + ":")))
          .as(key)
          .hasSize(1);
    }
    assertThat(lines)
        .anySatisfy(
            l ->
                assertThat(l)
                    .contains(
                        "core.onboard.quote_enabled: accepted and ignored: retired upstream in v0.5.9")
                    .contains("quotes are always required"))
        .anySatisfy(l -> assertThat(l).contains("core.pccs_url: retired upstream after v0.5.11"));
  }
}
