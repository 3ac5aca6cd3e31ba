package dev.cvmkms.kms.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cvmkms.kms.attestation.Bytes;
import dev.cvmkms.kms.attestation.mock.MockTdx;
import dev.cvmkms.kms.client.FakeSourceKms;
import dev.cvmkms.kms.keys.RootKeys;
import dev.cvmkms.kms.service.KmsAttestation;
import io.vertx.core.Vertx;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code kms get-keys} against an in-process KMS: one JSON document out, clear failures. */
class GetKeysCommandTest {
  private static Vertx vertx;
  private static FakeSourceKms kms;
  @TempDir Path tmp;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    MockTdx tdx = MockTdx.create(Instant.now());
    KmsAttestation att = FakeSourceKms.mockAttestation(tdx);
    RootKeys keys = FakeSourceKms.keysFor(att, "localhost");
    kms = FakeSourceKms.start(vertx, tdx, att, keys, FakeSourceKms::normalIdentity);
  }

  @AfterAll
  static void stop() throws Exception {
    kms.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private record Run(int exit, String out, String err) {}

  private static synchronized Run run(String... args) {
    PrintStream original = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    java.io.StringWriter err = new java.io.StringWriter();
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      CommandLine cli = new CommandLine(new GetKeysCommand());
      cli.setErr(new java.io.PrintWriter(err, true));
      int exit = cli.execute(args);
      return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString());
    } finally {
      System.setOut(original);
    }
  }

  @Test
  void mockGuest_getsItsKeys_asOnePrpcJsonDocument() throws Exception {
    String appId = "ab".repeat(20);
    Run r =
        run(
            "--url",
            kms.url("localhost"),
            "--app-id",
            "0x" + appId,
            "--instance-id",
            "cd".repeat(20),
            "--insecure-mock-attestation");
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out().strip().lines().count()).isEqualTo(1);
    JsonNode keys = new ObjectMapper().readTree(r.out());
    assertThat(keys.get("disk_crypt_key").asText())
        .isEqualTo(Bytes.hex(Bytes.sha256(HexFormat.of().parseHex(appId))));
    assertThat(keys.get("ca_cert").asText()).isEqualTo(kms.keys.rootCaCertPem());
    assertThat(kms.lastClientAttestation.bootInfo(false, "").instanceId())
        .isEqualTo("cd".repeat(20));
  }

  @Test
  void pinnedRootOfAnotherKms_failsWithoutOutput() throws Exception {
    Path other = tmp.resolve("other-root.crt");
    RootKeys otherKeys = FakeSourceKms.keysFor(FakeSourceKms.mockAttestation(kms.tdx), "localhost");
    Files.writeString(other, otherKeys.rootCaCertPem());
    Run r =
        run(
            "--url",
            kms.url("localhost"),
            "--app-id",
            "ab".repeat(20),
            "--root-ca",
            other.toString(),
            "--insecure-mock-attestation");
    assertThat(r.exit()).isNotZero();
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).contains("does not chain to the trusted root");
  }

  @Test
  void badArguments_failClearly() {
    Run shortId =
        run("--url", kms.url("localhost"), "--app-id", "abcd", "--insecure-mock-attestation");
    assertThat(shortId.exit()).isNotZero();
    assertThat(shortId.err()).contains("--app-id must be 20 bytes");
    Run noId = run("--url", kms.url("localhost"), "--insecure-mock-attestation");
    assertThat(noId.exit()).isNotZero();
    assertThat(noId.err()).contains("--app-id is required");
    Run plain =
        run(
            "--url",
            "http://localhost:1",
            "--app-id",
            "ab".repeat(20),
            "--insecure-mock-attestation");
    assertThat(plain.exit()).isNotZero();
    assertThat(plain.err()).contains("must use https");
    assertThat(shortId.out() + noId.out() + plain.out()).isEmpty();
  }
}
