package dev.cvmkms.kms;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kms serve --check-config} as an operator runs it: the real jar, a dstack release's
 * kms.toml, exit code and stdout. It must return on its own (serve would keep running).
 */
class CheckConfigIT {
  @TempDir Path tmp;

  private record Result(int code, String out) {}

  private Result run(Path config) throws Exception {
    String jar = System.getProperty("kms.jar", "target/kms.jar");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Path out = tmp.resolve("out-" + config.getFileName());
    Process p =
        new ProcessBuilder(
                List.of(
                    java,
                    "-Xmx128m",
                    "-jar",
                    jar,
                    "serve",
                    "-c",
                    config.toString(),
                    "--check-config"))
            .redirectOutput(out.toFile())
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    try {
      // Bounded: a check that does not return has started something.
      assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("--check-config returned").isTrue();
      return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
    } finally {
      p.destroyForcibly();
    }
  }

  @Test
  void releasedConfigPasses_misspeltConfigFailsWithSuggestion() throws Exception {
    Path v058 = Path.of("src/test/resources/config/upstream/kms-v0.5.8.toml");
    Result ok = run(v058);
    assertThat(ok.code()).as(ok.out()).isZero();
    assertThat(ok.out())
        .contains("core.cert_dir = \"/etc/kms/certs\"")
        .contains("core.onboard.quote_enabled: accepted and ignored: retired upstream in v0.5.9")
        .contains("result: OK");

    Path bad = tmp.resolve("bad.toml");
    Files.writeString(
        bad, Files.readString(v058).replace("auto_bootstrap_domain", "auto_bootstrap_domian"));
    Result refused = run(bad);
    assertThat(refused.code()).isEqualTo(1);
    assertThat(refused.out())
        .contains(
            "result: INVALID, unknown key core.onboard.auto_bootstrap_domian (did you mean"
                + " core.onboard.auto_bootstrap_domain?)");
  }
}
