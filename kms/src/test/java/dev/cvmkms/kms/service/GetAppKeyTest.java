package dev.cvmkms.kms.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cvmkms.kms.attestation.Bytes;
import dev.cvmkms.kms.attestation.eventlog.AppInfo;
import dev.cvmkms.kms.attestation.ratls.VersionedAttestation;
import dev.cvmkms.kms.client.ImageVerifier;
import dev.cvmkms.kms.keys.EcKeys;
import dev.cvmkms.kms.keys.derivation.AppKeys;
import dev.cvmkms.kms.keys.derivation.KeyDerivation;
import dev.cvmkms.kms.proto.AppKeyResponse;
import dev.cvmkms.kms.rpc.PrpcJson;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.interfaces.ECPrivateKey;
import java.util.HexFormat;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GetAppKey end to end over HTTPS: RA-TLS client certificates issued under the temp CA with a
 * MockTdx attestation, verified at the edge, authorized by a fake policy, audited.
 */
class GetAppKeyTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HexFormat HEX = HexFormat.of();

  @TempDir Path dir;
  private AppKeyServer server;

  @BeforeEach
  void start() throws Exception {
    server =
        new AppKeyServer(
            dir.resolve("audit.jsonl"), ImageVerifier.disabled(), UnaryOperator.identity());
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
  }

  private static String error(HttpResponse<String> r) throws Exception {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    return JSON.readTree(r.body()).get("error").asText();
  }

  private List<JsonNode> auditLines() throws Exception {
    return Files.readAllLines(server.auditPath).stream()
        .map(
            l -> {
              try {
                return JSON.readTree(l);
              } catch (Exception e) {
                throw new AssertionError(l, e);
              }
            })
        .toList();
  }

  @Test
  void attestedApp_getsKeysEqualToTheDerivation_andTheReleaseIsAudited() throws Exception {
    HttpResponse<String> r = server.honestClient().post("GetAppKey", "{\"api_version\":1}");

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    AppKeyResponse resp =
        PrpcJson.decode(
            r.body().getBytes(StandardCharsets.UTF_8), AppKeyResponse.getDefaultInstance());
    byte[] appId = server.guest.appId();
    byte[] instanceId = AppInfo.find(server.guest.runtimeEvents(), "instance-id");
    assertThat(instanceId).hasSize(20);
    AppKeys expected =
        KeyDerivation.appKeys(
            (ECPrivateKey) server.keys.secretRootCaKeyPair().getPrivate(),
            server.keys.secretK256Scalar(),
            appId,
            instanceId);
    assertThat(resp.getDiskCryptKey().toByteArray()).isEqualTo(expected.diskCryptKey());
    assertThat(resp.getEnvCryptKey().toByteArray()).isEqualTo(expected.envCryptKey());
    assertThat(resp.getK256Key().toByteArray()).isEqualTo(expected.k256Key());
    assertThat(resp.getK256Signature().toByteArray()).hasSize(65);
    assertThat(resp.getCaCert()).isEqualTo(server.keys.rootCaCertPem());
    assertThat(resp.getGatewayAppId()).isEqualTo("0xgateway");
    assertThat(resp.getTproxyAppId()).isEqualTo("0xgateway");
    assertThat(resp.getOsImageHash().toByteArray())
        .isEqualTo(AppInfo.osImageHash(server.guest.vmConfig()))
        .hasSize(32);

    // The policy saw the runtime identity (full RTMR3, key provider included) on /bootAuth/app.
    assertThat(server.policy.appChecks).hasSize(1);
    assertThat(server.policy.kmsChecks).isEmpty();
    assertThat(server.policy.appChecks.get(0).appId()).isEqualTo(HEX.formatHex(appId));
    assertThat(server.policy.appChecks.get(0).keyProviderInfo()).isNotEmpty();

    List<JsonNode> audit = auditLines();
    assertThat(audit).hasSize(1);
    JsonNode line = audit.get(0);
    assertThat(line.get("rpc").asText()).isEqualTo("GetAppKey");
    assertThat(line.get("decision").asText()).isEqualTo("allow");
    assertThat(line.get("app_id").asText()).isEqualTo(HEX.formatHex(appId));
    assertThat(line.get("instance_id").asText()).isEqualTo(HEX.formatHex(instanceId));
    assertThat(line.get("compose_hash").asText())
        .isEqualTo(HEX.formatHex(server.guest.composeHash()));
    assertThat(line.get("caller").asText()).startsWith("127.0.0.1:");
    String raw = Files.readString(server.auditPath);
    assertThat(raw)
        .doesNotContain(HEX.formatHex(expected.diskCryptKey()))
        .doesNotContain(HEX.formatHex(expected.envCryptKey()))
        .doesNotContain(HEX.formatHex(expected.k256Key()));
  }

  @Test
  void apiVersionAboveOne_isUnsupported() throws Exception {
    assertThat(error(server.honestClient().post("GetAppKey", "{\"api_version\":2}")))
        .isEqualTo("Unsupported API version: 2");
  }

  @Test
  void noClientCertificate_isNotAllowed() throws Exception {
    assertThat(error(server.anonymousClient().post("GetAppKey", "{}")))
        .isEqualTo("App not allowed: No attestation provided");
    assertThat(server.policy.appChecks).isEmpty();
    assertThat(auditLines())
        .singleElement()
        .satisfies(
            l -> {
              assertThat(l.get("decision").asText()).isEqualTo("deny");
              assertThat(l.get("reason").asText())
                  .isEqualTo("App not allowed: No attestation provided");
            });
  }

  @Test
  void forgedReportData_isAnInvalidQuote() throws Exception {
    KeyPair key = EcKeys.generateP256(new SecureRandom());
    byte[] wrong = new byte[64];
    new SecureRandom().nextBytes(wrong);
    var client = server.raTlsClient(key, server.guest.attestation(wrong));

    assertThat(error(client.post("GetAppKey", "{}")))
        .startsWith("invalid quote: ")
        .contains("REPORT_DATA_MISMATCH");
    assertThat(server.policy.appChecks).isEmpty();
    assertThat(auditLines())
        .singleElement()
        .satisfies(l -> assertThat(l.get("decision").asText()).isEqualTo("deny"));
  }

  @Test
  void attestationReplayedFromAnotherKey_isAnInvalidQuote() throws Exception {
    KeyPair victim = EcKeys.generateP256(new SecureRandom());
    KeyPair attacker = EcKeys.generateP256(new SecureRandom());
    var client = server.raTlsClient(attacker, server.attestationFor(victim));

    assertThat(error(client.post("GetAppKey", "{}")))
        .startsWith("invalid quote: ")
        .contains("REPORT_DATA_MISMATCH");
    assertThat(server.policy.appChecks).isEmpty();
  }

  @Test
  void tamperedQuote_isAnInvalidQuote_forGetAppKey_whileGetMetaIgnoresIt() throws Exception {
    KeyPair key = EcKeys.generateP256(new SecureRandom());
    VersionedAttestation honest = server.attestationFor(key);
    byte[] quote = honest.quote();
    quote[200] ^= 1; // inside the TD report body: mr_td
    VersionedAttestation tampered =
        new VersionedAttestation(
            honest.wireVersion(),
            quote,
            honest.eventLog(),
            honest.runtimeEvents(),
            honest.reportData(),
            honest.config());
    var client = server.raTlsClient(key, tampered);

    assertThat(error(client.post("GetAppKey", "{}"))).startsWith("invalid quote: ");
    // Issue #13: GetMeta does not use the caller's identity, so it ignores its attestation.
    assertThat(client.post("GetMeta", "null").statusCode()).isEqualTo(200);
    assertThat(server.policy.appChecks).isEmpty();
  }

  @Test
  void plainClientCertificate_isServedForGetMeta_butNotForKeys() throws Exception {
    var client = server.client(EcKeys.generateP256(new SecureRandom()), List.of());
    assertThat(client.post("GetMeta", "null").statusCode()).isEqualTo(200);
    assertThat(error(client.post("GetAppKey", "{}")))
        .isEqualTo("App not allowed: No attestation provided");
  }

  @Test
  void deniedApp_getsBootDenied_andNothingIsReleased() throws Exception {
    server.policy.allowApps = false;

    HttpResponse<String> r = server.honestClient().post("GetAppKey", "{}");

    assertThat(error(r)).isEqualTo("App not allowed: Boot denied: app is revoked");
    assertThat(r.body()).doesNotContain("disk_crypt_key");
    JsonNode line = auditLines().get(0);
    assertThat(line.get("decision").asText()).isEqualTo("deny");
    assertThat(line.get("app_id").asText()).isEqualTo(HEX.formatHex(server.guest.appId()));
    assertThat(line.get("reason").asText())
        .isEqualTo("App not allowed: Boot denied: app is revoked");
  }

  @Test
  void revocation_takesEffectOnTheNextRequest_onTheSameConnection() throws Exception {
    var client = server.honestClient();
    assertThat(client.post("GetAppKey", "{}").statusCode()).isEqualTo(200);

    server.policy.allowApps = false;
    assertThat(error(client.post("GetAppKey", "{}"))).contains("Boot denied");

    server.policy.allowApps = true;
    assertThat(client.post("GetAppKey", "{}").statusCode()).isEqualTo(200);
    assertThat(server.policy.appChecks).hasSize(3);
    assertThat(auditLines())
        .extracting(l -> l.get("decision").asText())
        .containsExactly("allow", "deny", "allow");
  }

  @Test
  void vmConfigFromTheRequest_decidesTheOsImageHash() throws Exception {
    String other = "ab".repeat(32);
    HttpResponse<String> r =
        server
            .honestClient()
            .post(
                "GetAppKey",
                "{\"vm_config\":"
                    + JSON.writeValueAsString("{\"os_image_hash\":\"" + other + "\"}")
                    + "}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(
            Bytes.hex(
                PrpcJson.decode(
                        r.body().getBytes(StandardCharsets.UTF_8),
                        AppKeyResponse.getDefaultInstance())
                    .getOsImageHash()
                    .toByteArray()))
        .isEqualTo(other);
    assertThat(server.policy.appChecks.get(0).osImageHash()).isEqualTo(other);
  }
}
