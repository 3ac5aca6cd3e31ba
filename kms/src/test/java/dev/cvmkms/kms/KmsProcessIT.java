package dev.cvmkms.kms;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cvmkms.autheth.testing.BlockedThreadWarnings;
import dev.cvmkms.kms.proto.GetMetaResponse;
import dev.cvmkms.kms.proto.GetTempCaCertResponse;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Starts the real jar ({@code kms dev}) and talks to it over HTTPS like a dstack client. */
class KmsProcessIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration READY = Duration.ofSeconds(60);

  @TempDir Path tmp;

  @Test
  void devKms_servesMetaAndTempCa_inBothEncodings_andKeepsKeysAcrossRestart() throws Exception {
    Path state = tmp.resolve("state");
    Path rootCaFile = state.resolve("root-ca.crt");
    int port = KmsProcess.freePort();
    String firstK256;
    byte[] firstCaKey;
    try (KmsProcess kms =
        KmsProcess.start(tmp, port, "dev", "--state-dir", state.toString(), "--port", "" + port)) {
      kms.awaitReady(rootCaFile, READY);
      HttpClient http = KmsProcess.client(rootCaFile);
      String rootPem = Files.readString(rootCaFile);
      X509Certificate root = KmsProcess.readCert(rootCaFile);

      // GetMeta, JSON by GET: field order, dev values, nulls for the chain fields.
      HttpResponse<String> meta =
          http.send(kms.get("/prpc/GetMeta"), HttpResponse.BodyHandlers.ofString());
      assertThat(meta.statusCode()).isEqualTo(200);
      assertThat(meta.headers().firstValue("content-type"))
          .hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
      JsonNode m = JSON.readTree(meta.body());
      List<String> keys = new ArrayList<>();
      m.fieldNames().forEachRemaining(keys::add);
      assertThat(keys)
          .containsExactly(
              "ca_cert",
              "allow_any_upgrade",
              "k256_pubkey",
              "bootstrap_info",
              "is_dev",
              "gateway_app_id",
              "kms_contract_address",
              "chain_id",
              "app_auth_implementation");
      assertThat(m.get("ca_cert").asText()).isEqualTo(rootPem);
      assertThat(m.get("is_dev").asBoolean()).isTrue();
      assertThat(m.get("allow_any_upgrade").asBoolean()).isTrue();
      assertThat(m.get("kms_contract_address").isNull()).isTrue();
      assertThat(m.get("chain_id").isNull()).isTrue();
      firstK256 = m.get("k256_pubkey").asText();
      assertThat(firstK256).matches("0[23][0-9a-f]{64}");
      JsonNode boot = m.get("bootstrap_info");
      assertThat(boot.get("k256_pubkey").asText()).isEqualTo(firstK256);
      assertThat(HexFormat.of().parseHex(boot.get("ca_pubkey").asText()))
          .isEqualTo(root.getPublicKey().getEncoded());
      // Compact output: no space after separators (the PEM text has spaces of its own).
      assertThat(meta.body()).doesNotContain("\": ").doesNotContain(", \"");

      // GetMeta, protobuf, with the KMS. prefix: the same facts.
      HttpResponse<byte[]> metaBin =
          http.send(
              kms.post("/prpc/KMS.GetMeta", "application/octet-stream", new byte[0]),
              HttpResponse.BodyHandlers.ofByteArray());
      assertThat(metaBin.statusCode()).isEqualTo(200);
      GetMetaResponse mb = GetMetaResponse.parseFrom(metaBin.body());
      assertThat(mb.getCaCert()).isEqualTo(rootPem);
      assertThat(HexFormat.of().formatHex(mb.getK256Pubkey().toByteArray())).isEqualTo(firstK256);
      assertThat(mb.getIsDev()).isTrue();
      assertThat(mb.hasChainId()).isFalse();

      // GetTempCaCert in both encodings: the files verbatim.
      HttpResponse<String> tmpCa =
          http.send(
              kms.post(
                  "/prpc/GetTempCaCert?json",
                  "application/json",
                  "null".getBytes(StandardCharsets.UTF_8)),
              HttpResponse.BodyHandlers.ofString());
      assertThat(tmpCa.statusCode()).isEqualTo(200);
      JsonNode t = JSON.readTree(tmpCa.body());
      assertThat(t.get("temp_ca_cert").asText())
          .isEqualTo(Files.readString(state.resolve("tmp-ca.crt")));
      assertThat(t.get("temp_ca_key").asText())
          .isEqualTo(Files.readString(state.resolve("tmp-ca.key")));
      assertThat(t.get("ca_cert").asText()).isEqualTo(rootPem);
      HttpResponse<byte[]> tmpCaBin =
          http.send(
              kms.post("/prpc/GetTempCaCert", "application/x-protobuf", new byte[0]),
              HttpResponse.BodyHandlers.ofByteArray());
      GetTempCaCertResponse tb = GetTempCaCertResponse.parseFrom(tmpCaBin.body());
      assertThat(tb.getTempCaCert()).isEqualTo(t.get("temp_ca_cert").asText());
      assertThat(tb.getCaCert()).isEqualTo(rootPem);

      // The RPC certificate the server presents chains to ca_cert and is marked kms:rpc.
      X509Certificate leaf =
          (X509Certificate) meta.sslSession().orElseThrow().getPeerCertificates()[0];
      leaf.verify(root.getPublicKey());
      assertThat(leaf.getExtensionValue("1.3.6.1.4.1.62397.1.4")).isNotNull();
      assertThat(leaf.getExtensionValue("1.3.6.1.4.1.62397.1.8"))
          .as("dev attests the RPC cert with the mock")
          .isNotNull();
      assertThat(leaf.getSubjectAlternativeNames())
          .extracting(l -> l.get(1).toString())
          .contains("localhost", "127.0.0.1");

      // Errors: unknown method is a pRPC error, not a 404.
      HttpResponse<String> unknown =
          http.send(kms.get("/prpc/Nope"), HttpResponse.BodyHandlers.ofString());
      assertThat(unknown.statusCode()).isEqualTo(400);
      assertThat(JSON.readTree(unknown.body()).get("error").asText())
          .isEqualTo("Service not found: Nope");

      // Ops endpoints.
      assertThat(http.send(kms.get("/health"), HttpResponse.BodyHandlers.ofString()).body())
          .isEqualTo("OK");
      assertThat(
              http.send(kms.get("/healthz/live"), HttpResponse.BodyHandlers.ofString())
                  .statusCode())
          .isEqualTo(200);
      String metrics = http.send(kms.get("/metrics"), HttpResponse.BodyHandlers.ofString()).body();
      assertThat(metrics).contains("kms_rpc_requests_total").contains("GetMeta");
      assertThat(metrics)
          .contains("vertx_http_server_requests_total")
          .contains("jvm_memory_used_bytes");

      firstCaKey = root.getPublicKey().getEncoded();
      kms.stop();
      assertThat(kms.process().exitValue()).as("graceful exit on SIGTERM").isIn(0, 143);
      assertNoSecretsOrBlocking(kms.log(), state);
    }

    // Restart on the same state dir: same keys, nothing regenerated.
    try (KmsProcess kms =
        KmsProcess.start(tmp, port, "dev", "--state-dir", state.toString(), "--port", "" + port)) {
      kms.awaitReady(rootCaFile, READY);
      HttpClient http = KmsProcess.client(rootCaFile);
      JsonNode m =
          JSON.readTree(
              http.send(kms.get("/prpc/KMS.GetMeta?json"), HttpResponse.BodyHandlers.ofString())
                  .body());
      assertThat(m.get("k256_pubkey").asText()).isEqualTo(firstK256);
      assertThat(KmsProcess.readCert(rootCaFile).getPublicKey().getEncoded()).isEqualTo(firstCaKey);
      assertThat(kms.log()).doesNotContain("bootstrapped new keys");
    }
  }

  @Test
  void truncatedKeyFile_refusesToStart_namingTheFile() throws Exception {
    Path state = tmp.resolve("state");
    int port = KmsProcess.freePort();
    try (KmsProcess kms =
        KmsProcess.start(tmp, port, "dev", "--state-dir", state.toString(), "--port", "" + port)) {
      kms.awaitReady(state.resolve("root-ca.crt"), READY);
    }
    Path key = state.resolve("root-ca.key");
    byte[] bytes = Files.readAllBytes(key);
    Files.write(key, java.util.Arrays.copyOf(bytes, bytes.length / 2));
    byte[] k256Before = Files.readAllBytes(state.resolve("root-k256.key"));

    try (KmsProcess kms =
        KmsProcess.start(tmp, port, "dev", "--state-dir", state.toString(), "--port", "" + port)) {
      assertThat(kms.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(kms.process().exitValue()).isNotZero();
      assertThat(kms.log()).contains("root-ca.key");
    }
    assertThat(Files.readAllBytes(state.resolve("root-k256.key")))
        .as("never regenerated")
        .isEqualTo(k256Before);
  }

  private static void assertNoSecretsOrBlocking(String log, Path state) throws Exception {
    assertThat(BlockedThreadWarnings.blocking(log)).as("blocked event loops").isEmpty();
    assertThat(log).doesNotContain("PRIVATE KEY");
    String k256Hex = HexFormat.of().formatHex(Files.readAllBytes(state.resolve("root-k256.key")));
    assertThat(log).doesNotContain(k256Hex);
  }
}
