package dev.cvmkms.autheth.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Recompiles contracts/src with the pinned solc-js and requires byte-identical artifacts. */
class ContractsCompileIT {
  @Test
  void committedArtifactsMatchTheSources() throws Exception {
    Path home = Path.of(System.getProperty("autheth.home", "."));
    Process p =
        new ProcessBuilder("node", "contracts/compile.js", "--check")
            .directory(home.toFile())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out).contains("contract artifacts match the sources (solc-js 0.8.28");
  }
}
