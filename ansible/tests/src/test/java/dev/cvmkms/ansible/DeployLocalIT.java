package dev.cvmkms.ansible;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * deploy-local.yml for real with two replicas (anvil, our contracts, auth-eth and two `kms dev`
 * processes; the first bootstrapped through the bootstrap role, the second onboarded from it; the
 * sustained verify role on both; identical root keys and app keys), checked again from here over
 * TLS pinned to the first KMS's root; deploy-contracts.yml on the same chain with a secrets file;
 * then teardown-local.yml leaves no process and no open port.
 */
class DeployLocalIT {
  private static final Duration DEADLINE = Duration.ofMinutes(20);
  private static final String ANVIL_KEY =
      "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

  @TempDir Path tmp;

  @Test
  void twoReplicas_agreeOnRootAndAppKeys_andTeardownLeavesNothing() throws Exception {
    Path state = tmp.resolve("state");
    Path local = state.resolve("local");
    int anvil = freePort(1);
    int auth = freePort(1);
    int kms = freePort(2);
    Map<String, Object> vars =
        Map.of(
            "deploy_state_dir",
            state.toString(),
            "kms_replicas",
            2,
            "anvil_port",
            anvil,
            "auth_eth_port",
            auth,
            "kms_port",
            kms,
            // Sustained, but short enough for CI: 10 consecutive answers per replica.
            "verify_successes",
            10,
            "verify_interval",
            1);
    Map<String, Long> pids = new HashMap<>();
    try {
      Ansible.Result up = Ansible.playbook(tmp, DEADLINE, "deploy-local.yml", Ansible.vars(vars));
      pids.putAll(pids(local));
      up.assertOk();
      assertThat(up.output())
          .contains("GetMeta answered 10 times in a row at https://localhost:" + kms)
          .contains("GetMeta answered 10 times in a row at https://localhost:" + (kms + 1))
          .contains("2 replica(s) serve the same root CA and K256 key")
          .contains("2 replica(s) give app");
      assertThat(pids.keySet()).containsExactlyInAnyOrder("anvil", "auth-eth", "kms-0", "kms-1");

      JsonNode record = Json.read(local.resolve("deploy-local.json"));
      assertThat(record.get("replicas")).hasSize(2);
      JsonNode fingerprints = record.get("app").get("key_fingerprints");
      assertThat(fingerprints).hasSize(2);
      assertThat(fingerprints.get(0).asText()).matches("[0-9a-f]{64}");
      assertThat(fingerprints.get(1).asText()).isEqualTo(fingerprints.get(0).asText());

      // From here, trusting only the first KMS's root: both serve the same root CA and K256 key.
      Path root = local.resolve("kms-0-onboarding/root-ca.crt");
      HttpClient https = pinned(root);
      JsonNode meta0 = getMeta(https, kms);
      JsonNode meta1 = getMeta(https, kms + 1);
      assertThat(meta0.get("k256_pubkey").asText()).matches("0[23][0-9a-f]{64}");
      assertThat(meta1.get("k256_pubkey").asText()).isEqualTo(meta0.get("k256_pubkey").asText());
      X509Certificate ca0 = cert(meta0.get("ca_cert").asText());
      X509Certificate ca1 = cert(meta1.get("ca_cert").asText());
      assertThat(ca1.getPublicKey().getEncoded()).isEqualTo(ca0.getPublicKey().getEncoded());
      assertThat(ca1.getSubjectX500Principal()).isEqualTo(ca0.getSubjectX500Principal());
      assertThat(meta1.get("kms_contract_address").asText())
          .isEqualToIgnoringCase(record.get("kms_contract_addr").asText());
      assertThat(meta0.get("chain_id").asLong()).isEqualTo(31337L);

      deployContractsWithASecretsFile(state, anvil, record.get("kms_contract_addr").asText());
    } finally {
      Ansible.Result down =
          Ansible.playbook(
              tmp,
              Duration.ofMinutes(5),
              "teardown-local.yml",
              Ansible.vars(Map.of("deploy_state_dir", state.toString())));
      pids.putAll(pids(local)); // in case deploy-local failed before they were read
      List<String> alive = new ArrayList<>();
      for (var e : pids.entrySet()) {
        if (running(e.getValue())) {
          alive.add(e.getKey());
          ProcessHandle.of(e.getValue())
              .ifPresent(ProcessHandle::destroyForcibly); // stop it anyway
        }
      }
      assertThat(alive).as("still running after teardown:\n" + down.output()).isEmpty();
      down.assertOk();
      assertThat(pids(local)).isEmpty();
      for (int port : List.of(anvil, auth, kms, kms + 1)) {
        assertThat(listening(port)).as("port " + port + " still open").isFalse();
      }
    }
  }

  /** deploy-contracts.yml with the deployer key in a 0600 secrets file: never in the output. */
  private void deployContractsWithASecretsFile(Path state, int anvil, String kmsContract)
      throws Exception {
    Path secrets = tmp.resolve("local-secrets.yml");
    Files.writeString(secrets, "deployer_private_key: \"" + ANVIL_KEY + "\"\nvmm_token: \"\"\n");
    Files.setPosixFilePermissions(secrets, PosixFilePermissions.fromString("rw-r--r--"));
    Map<String, Object> vars =
        Map.of(
            "local_secrets_file", secrets.toString(),
            "deploy_state_dir", state.resolve("contracts").toString(),
            "eth_rpc_url", "http://127.0.0.1:" + anvil,
            "kms_contract_addr", kmsContract,
            "os_image_hashes", List.of("ab".repeat(32)),
            "kms_allowed_mrs", List.of("cd".repeat(32)),
            "kms_apps",
                List.of(
                    Map.of(
                        "name",
                        "demo",
                        "compose_hashes",
                        List.of("ef".repeat(32)),
                        "allow_any_device",
                        true)));
    Ansible.Result open =
        Ansible.playbook(tmp, DEADLINE, "deploy-contracts.yml", Ansible.vars(vars));
    assertThat(open.exit()).isNotZero();
    assertThat(open.output()).contains("has mode 0644").contains("chmod 600");

    Files.setPosixFilePermissions(secrets, PosixFilePermissions.fromString("rw-------"));
    Ansible.Result r =
        Ansible.playbook(tmp, DEADLINE, "deploy-contracts.yml", Ansible.vars(vars)).assertOk();
    assertThat(r.output()).doesNotContain(ANVIL_KEY);
    JsonNode contracts = Json.read(state.resolve("contracts/contracts.json"));
    assertThat(contracts.get("kms_contract_addr").asText()).isEqualTo(kmsContract);
    assertThat(contracts.get("chain_id").asLong()).isEqualTo(31337L);
    assertThat(contracts.get("apps").get("demo").asText()).matches("0x[0-9a-fA-F]{40}");
  }

  private static Map<String, Long> pids(Path local) throws IOException {
    Map<String, Long> out = new HashMap<>();
    if (!Files.isDirectory(local)) {
      return out;
    }
    try (Stream<Path> s = Files.list(local)) {
      for (Path p : s.filter(f -> f.toString().endsWith(".pid")).toList()) {
        String name = p.getFileName().toString().replaceFirst("\\.pid$", "");
        out.put(name, Long.parseLong(Files.readString(p).trim()));
      }
    }
    return out;
  }

  /**
   * Whether the process still runs. An exited process whose parent was the playbook's shell waits
   * as a zombie until PID 1 reaps it, which on these machines happens some time later: it holds no
   * port and no file, so it counts as gone (as it does for teardown's own check), while {@link
   * ProcessHandle#isAlive} still reports it.
   */
  private static boolean running(long pid) {
    if (!ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
      return false;
    }
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      // "pid (comm) S ...": the state follows the last ')', as comm may contain one.
      char state = stat.substring(stat.lastIndexOf(')') + 2).charAt(0);
      return state != 'Z' && state != 'X';
    } catch (IOException | RuntimeException gone) {
      return false;
    }
  }

  private static JsonNode getMeta(HttpClient https, int port) throws Exception {
    HttpResponse<String> r =
        https.send(
            HttpRequest.newBuilder(
                    URI.create("https://localhost:" + port + "/prpc/KMS.GetMeta?json"))
                .timeout(Duration.ofSeconds(30))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return Json.MAPPER.readTree(r.body());
  }

  private static X509Certificate cert(String pem) throws Exception {
    try (InputStream in = new java.io.ByteArrayInputStream(pem.getBytes())) {
      return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
  }

  private static HttpClient pinned(Path rootPem) throws Exception {
    KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
    ks.load(null, null);
    ks.setCertificateEntry("root", cert(Files.readString(rootPem)));
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ks);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    return HttpClient.newBuilder().sslContext(ctx).connectTimeout(Duration.ofSeconds(10)).build();
  }

  /** A loopback port p such that p .. p + count - 1 are all free now. */
  private static int freePort(int count) throws IOException {
    for (int attempt = 0; attempt < 200; attempt++) {
      int base = ThreadLocalRandom.current().nextInt(20000, 60000 - count);
      boolean free = true;
      for (int i = 0; i < count && free; i++) {
        free = bindable(base + i);
      }
      if (free) {
        return base;
      }
    }
    throw new IOException("no free loopback port range of " + count);
  }

  private static boolean bindable(int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static boolean listening(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 2000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
