package dev.cvmkms.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * check-reproducible.sh: two `build.sh --reproducible` runs from a wiped buildah store and freshly
 * staged (re-touched) contexts give identical image IDs for both images.
 */
class ReproducibleBuildIT {
  @Test
  void twoReproducibleBuilds_giveIdenticalImageIds() throws Exception {
    TestImages.build(); // dockerd up, base present
    Cmd r =
        Cmd.run(
            Duration.ofMinutes(20),
            Map.of(),
            Paths.repo(),
            Paths.home().resolve("check-reproducible.sh").toString());
    assertThat(r.exit()).as(r.out() + r.err()).isZero();
    String[] lines = r.out().strip().split("\n");
    assertThat(lines[lines.length - 1]).isEqualTo("reproducible");
    assertThat(r.out()).containsPattern("run 1: \\{\"kms\": \"sha256:[0-9a-f]{64}\"");
  }
}
