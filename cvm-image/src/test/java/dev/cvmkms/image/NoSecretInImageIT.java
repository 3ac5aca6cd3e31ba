package dev.cvmkms.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

/**
 * A canary API key sits in the environment while build.sh builds both images and is given to
 * auth-eth at run time; it must appear in no layer, image config or history entry, and not in the
 * container's log.
 */
class NoSecretInImageIT {
  private static final String TAG = "canary-it";
  @TempDir Path tmp;

  @Test
  void aKeyInTheBuildEnvironmentAndAtRunTime_isInNoLayerConfigHistoryOrLog() throws Exception {
    String canary = "cvmkms-canary-" + UUID.randomUUID();
    Path lock = tmp.resolve("images.lock");
    // Every name a careless build might pick up.
    Map<String, String> buildEnv =
        Map.of(
            "ETH_RPC_API_KEY",
            canary,
            "ETH_RPC_URL",
            "https://rpc.example/v2/" + canary,
            "DSTACK_KMS_ADMIN_TOKEN",
            canary,
            "IMAGES_LOCK",
            lock.toString());
    Cmd.run(
            Duration.ofMinutes(15),
            buildEnv,
            Paths.repo(),
            Paths.home().resolve("build.sh").toString(),
            "--tag",
            TAG)
        .ok("build.sh --tag " + TAG);
    String kms = "cvm-kms/kms:" + TAG;
    String auth = "cvm-kms/auth-eth:" + TAG;
    try {
      var ids = Http.JSON.readTree(lock.toFile());
      assertThat(ids.get("kms").asText()).isEqualTo(TestImages.id(kms));
      assertThat(ids.get("auth-eth").asText()).isEqualTo(TestImages.id(auth));

      String logs;
      String runtimeEnv;
      try (Chain chain = Chain.start()) {
        int port = Http.freePort();
        try (GenericContainer<?> c =
            new GenericContainer<>(DockerImageName.parse(auth))
                .withNetworkMode("host")
                .withEnv("HOST", "127.0.0.1")
                .withEnv("PORT", String.valueOf(port))
                .withEnv("ETH_RPC_URL", chain.anvil().url())
                .withEnv("ETH_RPC_API_KEY", canary)
                .withEnv("KMS_CONTRACT_ADDR", chain.fixture().kms())
                .waitingFor(Wait.forHealthcheck().withStartupTimeout(Services.HEALTHY_WITHIN))) {
          c.start();
          // The key did reach the container (run time), and the service used it.
          runtimeEnv = String.join("\n", c.getContainerInfo().getConfig().getEnv());
          Http.json(Http.get(Http.PLAIN, "http://127.0.0.1:" + port + "/"));
          logs = c.getLogs();
        }
      }
      assertThat(runtimeEnv).contains("ETH_RPC_API_KEY=" + canary);
      assertThat(logs).isNotBlank().doesNotContain(canary);

      for (String image : List.of(kms, auth)) {
        // docker save: the image config and every layer tar (uncompressed), byte for byte.
        long[] scanned = new long[1];
        boolean found;
        try (InputStream in = Services.docker().saveImageCmd(image).exec()) {
          found = contains(in, canary.getBytes(StandardCharsets.UTF_8), scanned);
        }
        assertThat(found).as(image + ": canary in `docker save` output").isFalse();
        assertThat(scanned[0]).as(image + ": bytes scanned").isGreaterThan(50_000_000L);
        try (InputStream in = Services.docker().saveImageCmd(image).exec()) {
          // The scan itself works: it finds what is known to be in the image.
          assertThat(contains(in, "healthcheck".getBytes(StandardCharsets.UTF_8), new long[1]))
              .isTrue();
        }
        String inspect =
            Cmd.run(Duration.ofMinutes(1), Map.of(), tmp, "docker", "image", "inspect", image)
                .ok("inspect")
                .out();
        assertThat(inspect).contains("healthcheck").doesNotContain(canary);
        String history =
            Cmd.run(
                    Duration.ofMinutes(1),
                    Map.of(),
                    tmp,
                    "docker",
                    "history",
                    "--no-trunc",
                    "--format",
                    "{{.CreatedBy}} {{.Comment}}",
                    image)
                .ok("history")
                .out();
        assertThat(history).contains("ENTRYPOINT").doesNotContain(canary);
      }
    } finally {
      Cmd.run(Duration.ofMinutes(2), Map.of(), tmp, "docker", "image", "rm", kms, auth);
    }
  }

  /** Streams {@code in} looking for {@code needle} (KMP), counting the bytes read. */
  static boolean contains(InputStream in, byte[] needle, long[] count) throws IOException {
    int[] fail = new int[needle.length];
    for (int i = 1, k = 0; i < needle.length; i++) {
      while (k > 0 && needle[i] != needle[k]) k = fail[k - 1];
      if (needle[i] == needle[k]) k++;
      fail[i] = k;
    }
    byte[] buf = new byte[1 << 16];
    int k = 0;
    boolean found = false;
    for (int n; (n = in.read(buf)) > 0; ) {
      count[0] += n;
      for (int i = 0; i < n && !found; i++) {
        while (k > 0 && buf[i] != needle[k]) k = fail[k - 1];
        if (buf[i] == needle[k]) k++;
        if (k == needle.length) found = true;
      }
    }
    return found;
  }
}
