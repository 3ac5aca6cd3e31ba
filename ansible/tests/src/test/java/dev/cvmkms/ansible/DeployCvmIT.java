package dev.cvmkms.ansible;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * deploy-cvm.yml (and build-images.yml) against the fake VMM: the token on every call, the CreateVm
 * body whose compose_file hashes to the printed compose hash, the redeploy sequence, and a wrong
 * token failing the play with a message that names the fix but not the token.
 */
class DeployCvmIT {
  private static final Duration DEADLINE = Duration.ofMinutes(5);
  private static final String TOKEN = "vmm-token-" + Long.toHexString(System.nanoTime());
  private static final String CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
  private static final String KMS_IMAGE = "registry.example/cvm-kms/kms@sha256:" + "a".repeat(64);
  private static final Pattern HASH = Pattern.compile("compose hash: ([0-9a-f]{64})");

  @TempDir Path tmp;

  /** The real cvm-image scripts when they are in the tree, else the test stand-ins. */
  private Path cvmImage() throws Exception {
    Path real = Ansible.REPO.resolve("cvm-image");
    if (Files.isExecutable(real.resolve("app-compose.sh"))) {
      return real;
    }
    Path copy = tmp.resolve("cvm-image");
    Files.createDirectories(copy);
    for (String f : List.of("app-compose.sh", "build.sh")) {
      Path dst = copy.resolve(f);
      Files.copy(Ansible.DIR.resolve("tests/fixtures/cvm-image/" + f), dst);
      Files.setPosixFilePermissions(dst, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    return copy;
  }

  private Path secrets(String name, String token) throws Exception {
    Path f = tmp.resolve(name);
    Files.writeString(f, "vmm_token: \"" + token + "\"\n");
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
    return f;
  }

  private Ansible.Result deploy(Fake vmm, Path secrets, Path cvmImage, Map<String, ?> extra)
      throws Exception {
    Map<String, Object> vars =
        new java.util.HashMap<>(
            Map.of(
                "vmm_url",
                vmm.url(),
                "local_secrets_file",
                secrets.toString(),
                "cvm_image_dir",
                cvmImage.toString(),
                "deploy_state_dir",
                tmp.resolve("state").toString(),
                "kms_domain",
                "kms.example.com",
                "kms_contract_addr",
                CONTRACT,
                "eth_rpc_url",
                "https://eth-sepolia.example/v2/{apiKey}",
                "kms_rpc_port",
                19100,
                "auth_eth_port",
                19200));
    vars.put("kms_image", KMS_IMAGE);
    vars.put("auth_eth_image", "registry.example/cvm-kms/auth-eth@sha256:" + "b".repeat(64));
    vars.putAll(extra);
    return Ansible.playbook(tmp, DEADLINE, "deploy-cvm.yml", Ansible.vars(vars));
  }

  @Test
  void createsTheVmWithTheTokenAndTheMeasuredCompose_thenRedeploys_andAWrongTokenFails()
      throws Exception {
    Path tokenFile = tmp.resolve("token");
    Files.writeString(tokenFile, TOKEN);
    Path calls = tmp.resolve("vmm-calls.jsonl");
    Path cvmImage = cvmImage();
    try (Fake vmm =
        Fake.start(
            tmp.resolve("vmm.log"),
            "fake_vmm.py",
            "--token-file",
            tokenFile.toString(),
            "--calls",
            calls.toString())) {
      Path good = secrets("good-secrets.yml", TOKEN);

      Ansible.Result first = deploy(vmm, good, cvmImage, Map.of()).assertOk();
      Matcher m = HASH.matcher(first.output());
      assertThat(m.find()).as(first.output()).isTrue();
      String printed = m.group(1);
      assertThat(first.output()).doesNotContain(TOKEN);

      List<JsonNode> c = Json.lines(calls);
      assertThat(c).allSatisfy(x -> assertThat(x.get("auth_ok").asBoolean()).isTrue());
      assertThat(c.stream().map(x -> x.get("method").asText()).toList())
          .startsWith("Status", "CreateVm")
          .doesNotContain("StopVm", "RemoveVm");
      JsonNode create =
          c.stream()
              .filter(x -> x.get("method").asText().equals("CreateVm"))
              .findFirst()
              .orElseThrow()
              .get("body");
      String composeFile = create.get("compose_file").asText();
      assertThat(sha256(composeFile)).isEqualTo(printed);
      assertThat(Json.MAPPER.readTree(composeFile).get("docker_compose_file").asText())
          .contains(CONTRACT)
          .contains("https://eth-sepolia.example/v2/{apiKey}")
          .contains(KMS_IMAGE);
      assertThat(composeFile).doesNotContain(TOKEN);
      assertThat(create.get("name").asText()).isEqualTo("kms");
      assertThat(create.get("vcpu").isInt()).isTrue();
      assertThat(create.get("ports")).hasSize(2);
      for (JsonNode port : create.get("ports")) {
        assertThat(port.get("host_address").asText()).isEqualTo("127.0.0.1");
        assertThat(port.get("host_port").isInt()).isTrue();
      }
      assertThat(create.get("ports").get(0).get("host_port").asInt()).isEqualTo(19100);
      // The file the hash was printed for is the one the VMM got.
      assertThat(
              Files.readString(
                  tmp.resolve("state/localhost/kms/app-compose.json"), StandardCharsets.UTF_8))
          .isEqualTo(composeFile);

      // The VM exists now: a second deploy refuses unless asked, then replaces it.
      Ansible.Result again = deploy(vmm, good, cvmImage, Map.of());
      assertThat(again.exit()).isNotZero();
      assertThat(again.output()).contains("already exists").contains("force_redeploy=true");
      int before = Json.lines(calls).size();
      deploy(vmm, good, cvmImage, Map.of("force_redeploy", true)).assertOk();
      List<String> redeploy =
          Json.lines(calls).subList(before, Json.lines(calls).size()).stream()
              .map(x -> x.get("method").asText())
              .filter(x -> !x.equals("Status"))
              .toList();
      assertThat(redeploy).containsExactly("StopVm", "RemoveVm", "CreateVm");

      // A wrong token: the play fails at the first call, saying what to set; no token printed.
      String wrong = "wrong-" + TOKEN;
      int callsBefore = Json.lines(calls).size();
      Ansible.Result denied = deploy(vmm, secrets("bad-secrets.yml", wrong), cvmImage, Map.of());
      assertThat(denied.exit()).isNotZero();
      assertThat(denied.output())
          .contains("refused Status with HTTP 401")
          .contains("vmm_token is wrong or missing")
          .doesNotContain(wrong)
          .doesNotContain(TOKEN);
      List<JsonNode> deniedCalls = Json.lines(calls).subList(callsBefore, Json.lines(calls).size());
      assertThat(deniedCalls).hasSize(1);
      assertThat(deniedCalls.get(0).get("auth_ok").asBoolean()).isFalse();
    }
  }

  @Test
  void buildImagesRecordsTheDigestsOfBuildSh() throws Exception {
    // Always the stand-in: building the real images is cvm-image's own test.
    Path copy = tmp.resolve("stand-in");
    Files.createDirectories(copy);
    Path build = copy.resolve("build.sh");
    Files.copy(Ansible.DIR.resolve("tests/fixtures/cvm-image/build.sh"), build);
    Files.setPosixFilePermissions(build, PosixFilePermissions.fromString("rwxr-xr-x"));
    Ansible.playbook(
            tmp,
            DEADLINE,
            "build-images.yml",
            Ansible.vars(
                Map.of(
                    "cvm_image_dir", copy.toString(),
                    "deploy_state_dir", tmp.resolve("state").toString(),
                    "image_tag", "ci-1")))
        .assertOk();
    JsonNode lock = Json.read(copy.resolve("build/images.lock"));
    JsonNode recorded = Json.read(tmp.resolve("state/images.json"));
    assertThat(recorded.get("kms").asText())
        .isEqualTo(lock.get("kms").asText())
        .startsWith("sha256:");
    assertThat(recorded.get("auth-eth").asText()).isEqualTo(lock.get("auth-eth").asText());
    assertThat(recorded.get("tag").asText()).isEqualTo("ci-1");
  }

  static String sha256(String s) throws Exception {
    return HexFormat.of()
        .formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
  }
}
