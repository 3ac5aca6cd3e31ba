package dev.cvmkms.kms.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cvmkms.kms.client.ImageVerifier;
import io.vertx.core.Future;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Both fail-closed paths: no audit line, no key; no image verifier, no key. */
class AuditAndImageFailClosedTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  private static String error(HttpResponse<String> r) throws Exception {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    return JSON.readTree(r.body()).get("error").asText();
  }

  @Test
  void unwritableAuditFile_failsTheRequest_allowAndDenyAlike() throws Exception {
    Path notAFile = Files.createDirectory(dir.resolve("audit-is-a-directory"));
    try (AppKeyServer server =
        new AppKeyServer(notAFile, ImageVerifier.disabled(), UnaryOperator.identity())) {
      HttpResponse<String> allowed = server.honestClient().post("GetAppKey", "{}");
      assertThat(error(allowed)).isEqualTo("internal error");
      assertThat(allowed.body()).doesNotContain("disk_crypt_key");

      server.policy.allowApps = false;
      assertThat(error(server.honestClient().post("GetAppKey", "{}"))).isEqualTo("internal error");
      // The policy did allow the first call: only the audit write stopped the release.
      assertThat(server.policy.appChecks).hasSize(2);
      // Unaudited RPCs keep working.
      assertThat(server.anonymousClient().post("GetMeta", "null").statusCode()).isEqualTo(200);
    }
  }

  @Test
  void blockedAuditSink_failsTheRequestWhenItGivesUp() throws Exception {
    UnaryOperator<AuditLog> failing =
        real -> line -> Future.failedFuture(new java.io.IOException("No space left on device"));
    try (AppKeyServer server =
        new AppKeyServer(dir.resolve("a.jsonl"), ImageVerifier.disabled(), failing)) {
      assertThat(error(server.anonymousClient().post("GetTempCaCert", "null")))
          .isEqualTo("internal error");
    }
  }

  @Test
  void imageVerificationOnWithoutVerifier_failsClosed() throws Exception {
    try (AppKeyServer server =
        new AppKeyServer(
            dir.resolve("a.jsonl"),
            ImageVerifier.failClosed("no OS image verifier is available"),
            UnaryOperator.identity())) {
      HttpResponse<String> r = server.honestClient().post("GetAppKey", "{}");
      assertThat(error(r))
          .isEqualTo(
              "App not allowed: Failed to verify os image hash: no OS image verifier is available");
      assertThat(error(server.honestClient().post("GetKmsKey", "{}")))
          .startsWith("Failed to verify os image hash: ");
      assertThat(Files.readAllLines(server.auditPath))
          .hasSize(2)
          .allSatisfy(
              l -> assertThat(JSON.readTree(l).get("decision").asText()).isEqualTo("error"));
    }
  }
}
