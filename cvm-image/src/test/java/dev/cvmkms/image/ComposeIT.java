package dev.cvmkms.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cvmkms.autheth.testing.ChainFixture;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.net.http.HttpClient;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * cvm-image/docker-compose.yaml through Debian's docker-compose (v1): the template and the
 * rendered, measured file validate; the measured file comes up with host networking against anvil
 * (a small override stands in for the TDX the CI machine lacks), GetMeta answers with the chain's
 * metadata, and {@code down -v} leaves nothing behind.
 */
class ComposeIT {
  private static Chain chain;
  @TempDir Path tmp;

  @BeforeAll
  static void setUp() throws Exception {
    TestImages.build();
    chain = Chain.start();
  }

  @AfterAll
  static void tearDown() throws Exception {
    if (chain != null) {
      chain.close();
    }
  }

  private static Cmd compose(Path dir, Map<String, String> env, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("docker-compose"));
    cmd.addAll(List.of(args));
    return Cmd.run(Duration.ofMinutes(6), env, dir, cmd.toArray(String[]::new));
  }

  private static String networks() throws Exception {
    return Cmd.run(Duration.ofMinutes(1), Map.of(), Paths.home(), "docker", "network", "ls", "-q")
        .ok("docker network ls")
        .out();
  }

  @Test
  void theMeasuredComposeComesUpWithHostNetworking_answersGetMeta_andTearsDown() throws Exception {
    int kmsPort = Http.freePort();
    int authPort = Http.freePort();
    String canary = "cvmkms-compose-canary-" + UUID.randomUUID();
    Path configfs = Files.createDirectories(tmp.resolve("configfs"));
    Path sock = tmp.resolve("dstack.sock");
    try (ServerSocketChannel agent = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      // Stands in for the guest agent's socket so the bind mount has a socket to mount.
      agent.bind(UnixDomainSocketAddress.of(sock));
      Map<String, String> env = new HashMap<>();
      env.put("ETH_RPC_URL", chain.anvil().url());
      env.put("KMS_CONTRACT_ADDR", chain.fixture().kms());
      env.put("ETH_CHAIN_ID", "31337");
      env.put("KMS_PORT", String.valueOf(kmsPort));
      env.put("AUTH_ETH_PORT", String.valueOf(authPort));
      env.put("KMS_AUTO_BOOTSTRAP_DOMAIN", "localhost");
      env.put("DSTACK_SOCK", sock.toString());
      env.put("TSM_CONFIGFS", configfs.toString());

      // The template validates with its variables from the environment…
      Map<String, String> templateEnv = new HashMap<>(env);
      templateEnv.put("KMS_IMAGE", TestImages.KMS);
      templateEnv.put("AUTH_ETH_IMAGE", TestImages.AUTH_ETH);
      Files.writeString(tmp.resolve("auth-eth.secrets.env"), "ETH_RPC_API_KEY=" + canary + "\n");
      compose(
              tmp,
              templateEnv,
              "-f",
              Paths.home().resolve("docker-compose.yaml").toString(),
              "--project-directory",
              tmp.toString(),
              "config",
              "-q")
          .ok("docker-compose config (template)");

      // …and the measured file, rendered by app-compose.sh with the images pinned by ID.
      Cmd rendered =
          AppCompose.run(
              env,
              "--kms-image",
              TestImages.id(TestImages.KMS),
              "--auth-eth-image",
              TestImages.id(TestImages.AUTH_ETH),
              "--out",
              tmp.toString());
      assertThat(rendered.exit()).as(rendered.err()).isZero();
      String measured =
          Http.JSON
              .readTree(tmp.resolve("app-compose.json").toFile())
              .get("docker_compose_file")
              .asText();
      Files.writeString(tmp.resolve("docker-compose.yaml"), measured, StandardCharsets.UTF_8);
      assertThat(measured).doesNotContain(canary);
      Map<String, String> noVars = Map.of();
      compose(tmp, noVars, "-f", "docker-compose.yaml", "config", "-q")
          .ok("docker-compose config (measured)");

      // No TDX here: serve without attestation, as the insecure settings allow (logged as such).
      Files.writeString(
          tmp.resolve("ci.override.yaml"),
          """
          services:
            kms:
              command: ["serve", "--config", "/etc/kms/kms.toml", "--allow-insecure"]
              environment:
                KMS__CORE__ATTEST_RPC_CERT: "false"
                KMS__CORE__ENFORCE_SELF_AUTHORIZATION: "false"
                KMS__CORE__IMAGE__VERIFY: "false"
                KMS__CORE__IMAGE__INSECURE_ALLOW_UNVERIFIED_OS_IMAGE: "true"
          """);
      String project = "cvmkmsit" + Long.toHexString(System.nanoTime());
      String[] files = {"-p", project, "-f", "docker-compose.yaml", "-f", "ci.override.yaml"};
      String networksBefore = networks();
      try {
        // depends_on: auth-eth healthy before the KMS starts.
        Cmd up = compose(tmp, noVars, concat(files, "up", "-d"));
        if (up.exit() != 0) {
          Cmd logs = compose(tmp, noVars, concat(files, "logs", "--no-color"));
          up.ok("docker-compose up; logs:\n" + logs.out() + logs.err());
        }
        String kmsId =
            compose(tmp, noVars, concat(files, "ps", "-q", "kms")).ok("ps").out().strip();
        String authId =
            compose(tmp, noVars, concat(files, "ps", "-q", "auth-eth")).ok("ps").out().strip();
        assertThat(kmsId).isNotEmpty();
        assertThat(health(authId)).isEqualTo("healthy");
        await()
            .atMost(Services.HEALTHY_WITHIN)
            .pollInterval(Duration.ofSeconds(2))
            .until(() -> health(kmsId), h -> h.equals("healthy") || h.equals("unhealthy"));
        assertThat(health(kmsId)).as(logs(kmsId)).isEqualTo("healthy");
        assertThat(networks()).as("host networking creates no network").isEqualTo(networksBefore);

        Path ca = tmp.resolve("root-ca.crt");
        Cmd.run(
                Duration.ofMinutes(1),
                Map.of(),
                tmp,
                "docker",
                "cp",
                kmsId + ":/etc/kms/certs/root-ca.crt",
                ca.toString())
            .ok("docker cp root-ca.crt");
        HttpClient https = Http.trusting(Files.readAllBytes(ca));
        JsonNode meta =
            Http.json(Http.get(https, "https://localhost:" + kmsPort + "/prpc/GetMeta?json"));
        assertThat(meta.get("kms_contract_address").asText())
            .isEqualToIgnoringCase(chain.fixture().kms());
        assertThat(meta.get("chain_id").asLong()).isEqualTo(31337L);
        assertThat(meta.get("gateway_app_id").asText()).isEqualTo(ChainFixture.GATEWAY_APP_ID);
        assertThat(logs(authId)).doesNotContain(canary);
      } finally {
        compose(tmp, noVars, concat(files, "down", "-v", "-t", "30")).ok("docker-compose down");
      }
      String left =
          Cmd.run(
                  Duration.ofMinutes(1),
                  Map.of(),
                  tmp,
                  "docker",
                  "ps",
                  "-aq",
                  "--filter",
                  "label=com.docker.compose.project=" + project)
              .ok("docker ps")
              .out();
      assertThat(left).as("containers left by down").isBlank();
      String volumes =
          Cmd.run(
                  Duration.ofMinutes(1),
                  Map.of(),
                  tmp,
                  "docker",
                  "volume",
                  "ls",
                  "-q",
                  "--filter",
                  "label=com.docker.compose.project=" + project)
              .ok("docker volume ls")
              .out();
      assertThat(volumes).as("volumes left by down -v").isBlank();
    } finally {
      Files.deleteIfExists(sock);
    }
  }

  private static String[] concat(String[] a, String... b) {
    String[] r = new String[a.length + b.length];
    System.arraycopy(a, 0, r, 0, a.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }

  private static String health(String id) {
    var h = Services.docker().inspectContainerCmd(id).exec().getState().getHealth();
    return h == null ? "none" : h.getStatus();
  }

  private static String logs(String id) throws Exception {
    Cmd c = Cmd.run(Duration.ofMinutes(1), Map.of(), Paths.home(), "docker", "logs", id);
    return c.out() + c.err();
  }
}
