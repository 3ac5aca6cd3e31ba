package dev.cvmkms.ansible;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bootstrap-kms.yml, onboard-replica.yml and verify-kms.yml as an operator runs them (inventory
 * local.yml, the control host standing in for the TDX host), against two real `kms dev --onboard`
 * processes with the dev policy: the first is bootstrapped, the second onboards from it, and the
 * second then verifies against the first one's pinned root CA.
 */
class BootstrapOnboardIT {
  private static final Duration DEADLINE = Duration.ofMinutes(10);

  @TempDir Path tmp;

  @Test
  void bootstrapThenOnboardAReplica_throughThePlaybooks() throws Exception {
    Path state = tmp.resolve("state");
    try (Kms a = Kms.start(tmp.resolve("a"), freePort());
        Kms b = Kms.start(tmp.resolve("b"), freePort())) {
      int portA = a.port();
      int portB = b.port();
      Ansible.Result boot =
          Ansible.playbook(
                  tmp,
                  DEADLINE,
                  "bootstrap-kms.yml",
                  "-i",
                  "inventory/local.yml",
                  "-e",
                  Ansible.json(
                      Map.of(
                          "deploy_state_dir",
                          state.toString(),
                          "kms_domain",
                          "localhost",
                          "kms_state_name",
                          "kms-a",
                          "kms_onboard_url",
                          "http://127.0.0.1:" + portA,
                          "kms_url",
                          "https://localhost:" + portA)))
              .assertOk();
      assertThat(boot.output()).contains("mr_aggregated: ");
      JsonNode info = Json.read(state.resolve("kms-a/bootstrap-info.json"));
      assertThat(info.get("k256_pubkey").asText()).matches("0[23][0-9a-f]{64}");
      // The pinned root is the one the KMS wrote: Bootstrap's ca_pubkey was checked against it.
      assertThat(Files.readString(state.resolve("kms-a/root-ca.crt")))
          .isEqualTo(Files.readString(tmp.resolve("a/state/root-ca.crt")));

      Ansible.playbook(
              tmp,
              DEADLINE,
              "onboard-replica.yml",
              "-i",
              "inventory/local.yml",
              "-e",
              Ansible.json(
                  Map.of(
                      "deploy_state_dir",
                      state.toString(),
                      "kms_domain",
                      "localhost",
                      "kms_state_name",
                      "kms-b",
                      "kms_onboard_url",
                      "http://127.0.0.1:" + portB,
                      "kms_url",
                      "https://localhost:" + portB,
                      "source_kms_url",
                      "https://localhost:" + portA)))
          .assertOk();
      assertThat(Files.exists(state.resolve("kms-b/bootstrap-info.json"))).isFalse();

      Ansible.Result verify =
          Ansible.playbook(
                  tmp,
                  DEADLINE,
                  "verify-kms.yml",
                  "-i",
                  "inventory/local.yml",
                  "-e",
                  Ansible.json(
                      Map.of(
                          "kms_url",
                          "https://localhost:" + portB,
                          "kms_ca_cert",
                          state.resolve("kms-a/root-ca.crt").toString(),
                          "verify_successes",
                          5,
                          "verify_interval",
                          1)))
              .assertOk();
      assertThat(verify.output())
          .contains("GetMeta answered 5 times in a row at https://localhost:" + portB)
          .contains("(k256 " + info.get("k256_pubkey").asText() + ")");
    }
  }

  /** `kms dev --onboard` as a child process, stopped by PID. */
  private record Kms(Process process, int port) implements AutoCloseable {
    static Kms start(Path dir, int port) throws IOException {
      Files.createDirectories(dir);
      Path jar = Ansible.REPO.resolve("kms/target/kms.jar");
      Process p =
          new ProcessBuilder(
                  List.of(
                      Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                      "--enable-native-access=ALL-UNNAMED",
                      "-jar",
                      jar.toString(),
                      "dev",
                      "--state-dir",
                      dir.resolve("state").toString(),
                      "--port",
                      "" + port,
                      "--onboard"))
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("kms.log").toFile())
              .start();
      return new Kms(p, port);
    }

    @Override
    public void close() {
      Stop.process(process, Duration.ofSeconds(30));
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
