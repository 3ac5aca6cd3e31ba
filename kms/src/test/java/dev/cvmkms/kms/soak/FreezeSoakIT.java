package dev.cvmkms.kms.soak;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The seed incident in CI: the freeze soak for {@code soak.seconds} (60 by default) with the same
 * pass criteria as the 10-minute run. The report goes to target/soak (and to docs when {@code
 * soak.docs} is set).
 */
class FreezeSoakIT {
  @TempDir Path tmp;

  @Test
  void getMeta_staysFastAndAvailable_whileTheProviderThrottlesAndHangs() throws Exception {
    long seconds = Long.parseLong(System.getProperty("soak.seconds", "60"));
    Result r = FreezeSoak.run(FreezeSoak.defaults(Duration.ofSeconds(seconds), tmp));
    String docs = System.getProperty("soak.docs", "");
    SoakReport.write(r, docs.isBlank() ? Path.of("target", "soak") : Path.of(docs), Instant.now());
    System.err.println(r.summary());

    assertThat(r.calls).as("the clients made calls").hasSizeGreaterThan(100);
    assertThat(r.violations()).as(r.summary()).isEmpty();
  }
}
