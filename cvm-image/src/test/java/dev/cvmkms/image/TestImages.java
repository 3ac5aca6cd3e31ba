package dev.cvmkms.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.images.builder.ImageFromDockerfile;

/**
 * Both images built once per test JVM from cvm-image/{kms,auth-eth}/Dockerfile, with the contexts
 * staged by stage.sh (the same inputs build.sh uses). Stable tags ({@code :it}), not deleted on
 * exit: the next run reuses the layers (java-stack.md §2.5).
 */
final class TestImages {
  static final String BASE = "local/debian:bookworm";
  static final String KMS = "cvm-kms/kms:it";
  static final String AUTH_ETH = "cvm-kms/auth-eth:it";

  private static boolean built;

  private TestImages() {}

  static synchronized void build() throws Exception {
    if (built) {
      return;
    }
    assertThat(DockerClientFactory.instance().isDockerAvailable())
        .as("dockerd must be running (.ci/run starts it)")
        .isTrue();
    Path ctx = Paths.target().resolve("context");
    Cmd.run(
            Duration.ofMinutes(10),
            Map.of(),
            Paths.repo(),
            Paths.home().resolve("stage.sh").toString(),
            ctx.toString())
        .ok("stage.sh");
    build(KMS, ctx.resolve("kms"));
    build(AUTH_ETH, ctx.resolve("auth-eth"));
    built = true;
  }

  private static void build(String tag, Path context) {
    new ImageFromDockerfile(tag, false)
        .withFileFromPath(".", context)
        .withBuildArg("BASE", BASE)
        // COPY-only Dockerfiles need no network, but never let a build touch the bridge.
        .withBuildImageCmdModifier(cmd -> cmd.withNetworkMode("host"))
        .get();
  }

  static String id(String ref) {
    return DockerClientFactory.instance().client().inspectImageCmd(ref).exec().getId();
  }
}
