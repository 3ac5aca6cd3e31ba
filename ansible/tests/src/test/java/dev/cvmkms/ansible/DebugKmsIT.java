package dev.cvmkms.ansible;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * debug-kms.yml against the fake VMM (a running VM named kms) and a fake KMS whose GetMeta and auth
 * webhook hang: the CVM's stdout comes through the VMM with the token, and the play fails naming
 * the auth webhook as the layer that hangs.
 */
class DebugKmsIT {
  @TempDir Path tmp;

  @Test
  void fetchesTheLogsThroughTheVmm_andNamesTheHangingLayer() throws Exception {
    String token = "debug-token-" + Long.toHexString(System.nanoTime());
    Path tokenFile = tmp.resolve("token");
    Files.writeString(tokenFile, token);
    Path secrets = tmp.resolve("secrets.yml");
    Files.writeString(secrets, "vmm_token: \"" + token + "\"\n");
    Files.setPosixFilePermissions(secrets, PosixFilePermissions.fromString("rw-------"));
    Path vmmCalls = tmp.resolve("vmm-calls.jsonl");
    try (Fake vmm =
            Fake.start(
                tmp.resolve("vmm.log"),
                "fake_vmm.py",
                "--token-file",
                tokenFile.toString(),
                "--calls",
                vmmCalls.toString(),
                "--vm",
                "kms");
        Fake kms =
            Fake.start(
                tmp.resolve("kms.log"),
                "fake_kms.py",
                "--calls",
                tmp.resolve("kms-calls.jsonl").toString(),
                "--getmeta-answers",
                "0",
                "--auth-hang")) {
      Ansible.Result r =
          Ansible.playbook(
              tmp,
              Duration.ofMinutes(5),
              "debug-kms.yml",
              Ansible.vars(
                  Map.of(
                      "vmm_url", vmm.url(),
                      "local_secrets_file", secrets.toString(),
                      "kms_url", kms.url(),
                      "auth_eth_url", kms.url(),
                      "debug_timeout", 3)));
      assertThat(r.exit()).as(r.output()).isNotZero();
      assertThat(r.output())
          .contains("[stdout] kms: GetMeta stuck")
          .contains("HANGS: the auth webhook: auth-eth GET / hung (no answer within 3 s)")
          .contains("KMS GetMeta hung")
          .contains("KMS GetTempCaCert ok")
          .doesNotContain(token);
      JsonNode logs =
          Json.lines(vmmCalls).stream()
              .filter(c -> c.get("path").asText().equals("/logs"))
              .findFirst()
              .orElseThrow(() -> new AssertionError("no GET /logs on the VMM"));
      assertThat(logs.get("auth_ok").asBoolean()).isTrue();
      assertThat(logs.get("query").get("ch").asText()).isEqualTo("stdout");
      assertThat(logs.get("query").get("id").asText()).isNotEmpty();
    }
  }
}
