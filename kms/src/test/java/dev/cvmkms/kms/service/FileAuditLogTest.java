package dev.cvmkms.kms.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cvmkms.kms.KmsException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileAuditLogTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final Vertx vertx = Vertx.vertx();

  @TempDir Path dir;

  @AfterEach
  void close() throws Exception {
    await(vertx.close());
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static AuditTrail trail(String rpc) {
    return new AuditTrail(rpc, "127.0.0.1:5555", Instant.parse("2026-01-02T03:04:05Z"));
  }

  @Test
  void appendsOneJsonLinePerDecision_inOrder_creatingParents() throws Exception {
    Path file = dir.resolve("nested/kms-audit.jsonl");
    FileAuditLog log = new FileAuditLog(vertx, file);
    List<Future<Void>> writes = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      AuditTrail t = trail("GetAppKey");
      t.identifyApp(new byte[] {(byte) i});
      writes.add(log.append(t.allowed()));
    }
    await(Future.all(writes));
    await(log.close());

    List<String> lines = Files.readAllLines(file);
    assertThat(lines).hasSize(50);
    for (int i = 0; i < 50; i++) {
      JsonNode n = JSON.readTree(lines.get(i));
      assertThat(n.get("app_id").asText()).isEqualTo(String.format("%02x", i));
    }
    JsonNode first = JSON.readTree(lines.get(0));
    assertThat(first.fieldNames())
        .toIterable()
        .containsExactly(
            "time", "rpc", "caller", "app_id", "instance_id", "compose_hash", "decision", "reason");
    assertThat(first.get("time").asText()).isEqualTo("2026-01-02T03:04:05Z");
    assertThat(first.get("decision").asText()).isEqualTo("allow");
  }

  @Test
  void appendsToAnExistingFile_andRecoversOnceTheFileIsWritableAgain() throws Exception {
    Path file = dir.resolve("audit.jsonl");
    Files.writeString(file, "{\"old\":true}\n");
    Files.createDirectory(dir.resolve("blocked"));
    FileAuditLog broken = new FileAuditLog(vertx, dir.resolve("blocked"));
    Future<Void> failed = broken.append(trail("SignCert").allowed());
    assertThat(failed.toCompletionStage().toCompletableFuture())
        .failsWithin(java.time.Duration.ofSeconds(10));

    FileAuditLog log = new FileAuditLog(vertx, file);
    await(log.open());
    await(log.append(trail("SignCert").allowed()));
    assertThat(Files.readAllLines(file)).hasSize(2).first().isEqualTo("{\"old\":true}");
  }

  @Test
  void decisionsFollowTheErrorKind_andReasonsAreThePublicText() {
    AuditTrail t = trail("GetAppKey");
    assertThat(t.failed(new KmsException(KmsException.Kind.DENIED, "Boot denied: x")))
        .containsEntry("decision", "deny")
        .containsEntry("reason", "Boot denied: x");
    assertThat(t.failed(KmsException.invalid("app_id must be 20 bytes")))
        .containsEntry("decision", "deny");
    assertThat(t.failed(new KmsException(KmsException.Kind.NOT_ATTESTED, "invalid quote: y")))
        .containsEntry("decision", "deny");
    assertThat(t.failed(new KmsException(KmsException.Kind.UPSTREAM_UNAVAILABLE, "webhook down")))
        .containsEntry("decision", "error");
    // Internal details (which might name anything) stay out of the audit line.
    assertThat(t.failed(new KmsException(KmsException.Kind.INTERNAL, "secret detail")))
        .containsEntry("decision", "error")
        .containsEntry("reason", "internal error");
    assertThat(t.failed(new IllegalStateException("boom")))
        .containsEntry("decision", "error")
        .containsEntry("reason", "internal error");
  }

  @Test
  void rotatesBySize_keepingTheConfiguredFiles_neverSplittingALine_mode0600() throws Exception {
    Path file = dir.resolve("kms-audit.jsonl");
    FileAuditLog log =
        new FileAuditLog(vertx, file, new dev.cvmkms.kms.config.AuditRotation(4096, 2));
    int lines = 200;
    for (int i = 0; i < lines; i++) {
      AuditTrail t = trail("GetAppEnvEncryptPubKey");
      t.identifyApp(new byte[] {(byte) i});
      await(log.append(t.allowed()));
    }
    await(log.close());

    List<Path> files =
        List.of(file, dir.resolve("kms-audit.jsonl.1"), dir.resolve("kms-audit.jsonl.2"));
    int total = 0;
    for (Path f : files) {
      assertThat(f).exists();
      assertThat(Files.size(f)).isLessThanOrEqualTo(4096);
      assertThat(
              java.nio.file.attribute.PosixFilePermissions.toString(
                  Files.getPosixFilePermissions(f)))
          .isEqualTo("rw-------");
      for (String line : Files.readAllLines(f)) {
        assertThat(JSON.readTree(line).get("rpc").asText()).isEqualTo("GetAppEnvEncryptPubKey");
        total++;
      }
    }
    assertThat(dir.resolve("kms-audit.jsonl.3")).doesNotExist();
    // Oldest files were dropped whole; the newest line is the last one in the current file.
    List<String> current = Files.readAllLines(file);
    assertThat(JSON.readTree(current.get(current.size() - 1)).get("app_id").asText())
        .isEqualTo(String.format("%02x", (lines - 1) & 0xff));
    assertThat(total).isLessThan(lines).isPositive();
  }

  @Test
  void reopen_afterExternalRotation_writesToANewFileAtThePath() throws Exception {
    Path file = dir.resolve("kms-audit.jsonl");
    FileAuditLog log = new FileAuditLog(vertx, file);
    await(log.append(trail("GetAppKey").allowed()));
    Path moved = dir.resolve("kms-audit.jsonl.logrotate");
    Files.move(file, moved); // what logrotate does before it signals
    await(log.reopen());
    await(log.append(trail("SignCert").allowed()));
    await(log.close());

    assertThat(Files.readAllLines(moved)).hasSize(1).allMatch(l -> l.contains("GetAppKey"));
    assertThat(Files.readAllLines(file)).hasSize(1).allMatch(l -> l.contains("SignCert"));
  }

  @Test
  void aRotationThatFails_failsTheLine() throws Exception {
    Path sub = dir.resolve("ro");
    Files.createDirectories(sub);
    Path file = sub.resolve("kms-audit.jsonl");
    FileAuditLog log =
        new FileAuditLog(vertx, file, new dev.cvmkms.kms.config.AuditRotation(4096, 1));
    await(log.append(trail("GetAppKey").allowed()));
    // A directory where the rotated file must go: the rename cannot happen.
    Files.createDirectories(sub.resolve("kms-audit.jsonl.1"));
    Files.writeString(sub.resolve("kms-audit.jsonl.1").resolve("x"), "x");
    Files.writeString(file, "x".repeat(4090) + "\n", java.nio.file.StandardOpenOption.APPEND);
    await(log.reopen());
    Future<Void> w = log.append(trail("GetAppKey").allowed());
    assertThat(w.toCompletionStage().toCompletableFuture())
        .failsWithin(java.time.Duration.ofSeconds(10));
    await(log.close());
  }
}
