package dev.cvmkms.kms.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cvmkms.kms.attestation.eventlog.AppInfo;
import dev.cvmkms.kms.client.ImageVerifier;
import dev.cvmkms.kms.encoding.Pem;
import dev.cvmkms.kms.keys.EcKeys;
import dev.cvmkms.kms.keys.derivation.AppKeys;
import dev.cvmkms.kms.keys.derivation.AppSignatures;
import dev.cvmkms.kms.keys.derivation.KeyDerivation;
import dev.cvmkms.kms.keys.derivation.Secp256k1;
import dev.cvmkms.kms.proto.AppKeyResponse;
import dev.cvmkms.kms.proto.KmsKeyResponse;
import dev.cvmkms.kms.proto.PublicKeyResponse;
import dev.cvmkms.kms.rpc.PrpcJson;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.interfaces.ECPrivateKey;
import java.time.Instant;
import java.util.HexFormat;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** GetKmsKey (replication) and GetAppEnvEncryptPubKey over HTTPS. */
class KmsKeyAndEnvKeyTest {
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

  @Test
  void getKmsKey_returnsKeysThatReproduceTheSameAppKeys() throws Exception {
    var client = server.honestClient();
    HttpResponse<String> r = client.post("GetKmsKey", "{}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    KmsKeyResponse resp =
        PrpcJson.decode(
            r.body().getBytes(StandardCharsets.UTF_8), KmsKeyResponse.getDefaultInstance());

    assertThat(server.policy.kmsChecks).hasSize(1);
    assertThat(server.policy.appChecks).isEmpty();
    assertThat(resp.getTempCaKey()).isEqualTo(server.keys.secretTmpCaKeyPem());
    assertThat(resp.getKeysList()).hasSize(1);
    String caKeyPem = resp.getKeys(0).getCaKey();
    assertThat(caKeyPem).startsWith("-----BEGIN PRIVATE KEY-----\n");
    assertThat(Pem.decode(caKeyPem, Pem.PRIVATE_KEY)).hasSize(138);
    byte[] k256 = resp.getKeys(0).getK256Key().toByteArray();
    assertThat(k256).hasSize(32);

    // A replica holding these keys derives what this KMS releases.
    KeyPair replicaCa = EcKeys.parseP256Pkcs8Pem(caKeyPem);
    assertThat(replicaCa.getPublic().getEncoded()).isEqualTo(server.keys.rootCaSpkiDer());
    byte[] appId = server.guest.appId();
    byte[] instanceId = AppInfo.find(server.guest.runtimeEvents(), "instance-id");
    AppKeys replica =
        KeyDerivation.appKeys((ECPrivateKey) replicaCa.getPrivate(), k256, appId, instanceId);
    AppKeyResponse released =
        PrpcJson.decode(
            client.post("GetAppKey", "{}").body().getBytes(StandardCharsets.UTF_8),
            AppKeyResponse.getDefaultInstance());
    assertThat(released.getDiskCryptKey().toByteArray()).isEqualTo(replica.diskCryptKey());
    assertThat(released.getEnvCryptKey().toByteArray()).isEqualTo(replica.envCryptKey());
    assertThat(released.getK256Key().toByteArray()).isEqualTo(replica.k256Key());
  }

  @Test
  void getKmsKey_withoutAttestation_orDenied_releasesNothing() throws Exception {
    assertThat(error(server.anonymousClient().post("GetKmsKey", "{}")))
        .isEqualTo("No attestation provided");
    server.policy.allowKms = false;
    server.policy.reason = "not a registered kms";
    HttpResponse<String> denied = server.honestClient().post("GetKmsKey", "{}");
    assertThat(error(denied)).isEqualTo("Boot denied: not a registered kms");
    assertThat(denied.body()).doesNotContain("PRIVATE KEY");
  }

  @Test
  void envEncryptPubKey_signaturesRecoverToTheRootK256Key() throws Exception {
    byte[] appId = HEX.parseHex("11".repeat(20));
    long before = Instant.now().getEpochSecond();
    HttpResponse<String> r =
        server
            .anonymousClient()
            .post("GetAppEnvEncryptPubKey", "{\"app_id\":\"" + HEX.formatHex(appId) + "\"}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    PublicKeyResponse resp =
        PrpcJson.decode(
            r.body().getBytes(StandardCharsets.UTF_8), PublicKeyResponse.getDefaultInstance());

    byte[] pub = resp.getPublicKey().toByteArray();
    assertThat(pub)
        .isEqualTo(
            KeyDerivation.envEncryptPublicKey(
                (ECPrivateKey) server.keys.secretRootCaKeyPair().getPrivate(), appId));
    assertThat(resp.getTimestamp()).isBetween(before, Instant.now().getEpochSecond());
    byte[] root = server.keys.k256CompressedPublicKey();
    assertThat(
            Secp256k1.recoverPublicKey(
                AppSignatures.envPubKeyDigest(appId, pub), resp.getSignature().toByteArray()))
        .hasValueSatisfying(k -> assertThat(k).isEqualTo(root));
    assertThat(
            Secp256k1.recoverPublicKey(
                AppSignatures.envPubKeyDigestV1(appId, resp.getTimestamp(), pub),
                resp.getSignatureV1().toByteArray()))
        .hasValueSatisfying(k -> assertThat(k).isEqualTo(root));
  }

  @Test
  void envEncryptPubKey_rejectsAnAppIdThatIsNot20Bytes() throws Exception {
    assertThat(
            error(
                server
                    .anonymousClient()
                    .post("GetAppEnvEncryptPubKey", "{\"app_id\":\"" + "11".repeat(19) + "\"}")))
        .isEqualTo("app_id must be 20 bytes");
  }
}
