package dev.cvmkms.image;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cvmkms.autheth.testing.ChainFixture;
import java.net.http.HttpClient;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.testcontainers.containers.GenericContainer;

/**
 * The images as the CVM runs them, built from the Dockerfiles: auth-eth on a real anvil chain with
 * our contracts, the KMS (mock TDX attestation) asking it; health checks, GetMeta with the chain's
 * metadata, bootAuth, a clean {@code docker stop} of each, and the same keys after a restart on the
 * same volume.
 */
class ImagesIT {
  private static Chain chain;
  private static String volume;

  @BeforeAll
  static void setUp() throws Exception {
    TestImages.build();
    chain = Chain.start();
    volume = Services.newVolume("cvmkms-it-certs");
  }

  @AfterAll
  static void tearDown() throws Exception {
    try {
      Services.removeVolume(volume);
    } finally {
      if (chain != null) {
        chain.close();
      }
    }
  }

  private static byte[] rootCa(GenericContainer<?> kms) {
    return kms.<byte[]>copyFileFromContainer("/etc/kms/certs/root-ca.crt", in -> in.readAllBytes());
  }

  @Test
  void containersServeTheChain_stopCleanly_andKeepTheirKeysAcrossARestart() throws Exception {
    int authPort = Http.freePort();
    int kmsPort = Http.freePort();
    GenericContainer<?> auth = Services.authEth(chain, authPort);
    GenericContainer<?> kms = null;
    // The stop checks are collected and reported at the end, so a failed stop still lets the
    // restart check run.
    SoftAssertions stops = new SoftAssertions();
    try {
      auth.start();
      assertThat(Services.health(auth)).isEqualTo("healthy");
      String authUrl = "http://127.0.0.1:" + authPort;

      // auth-eth answers from the chain: metadata, an allowed app, a denied one.
      JsonNode info = Http.json(Http.get(Http.PLAIN, authUrl + "/"));
      assertThat(info.get("chainId").asLong()).isEqualTo(31337L);
      assertThat(info.get("kmsContractAddr").asText()).isEqualTo(chain.fixture().kms());
      JsonNode allowed =
          Http.json(
              Http.postJson(
                  Http.PLAIN, authUrl + "/bootAuth/app", chain.fixture().bootInfo().encode()));
      assertThat(allowed.get("isAllowed").asBoolean()).as(allowed.toString()).isTrue();
      JsonNode denied =
          Http.json(
              Http.postJson(
                  Http.PLAIN,
                  authUrl + "/bootAuth/app",
                  chain.fixture().bootInfo().put("composeHash", "55".repeat(32)).encode()));
      assertThat(denied.get("isAllowed").asBoolean()).as(denied.toString()).isFalse();

      kms = Services.kmsDev(volume, kmsPort, authPort);
      kms.start();
      assertThat(Services.health(kms)).isEqualTo("healthy");
      // BoringSSL's native library loads in the image (jlink runtime, non-root user, its /tmp):
      // [rpc.tls] engine = "auto" would otherwise fall back to the JDK's TLS with a warning.
      assertThat(kms.getLogs()).contains("(tls boringssl,");
      byte[] rootCa = rootCa(kms);
      HttpClient https = Http.trusting(rootCa);
      String kmsUrl = "https://localhost:" + kmsPort;

      JsonNode meta = Http.json(Http.get(https, kmsUrl + "/prpc/GetMeta?json"));
      assertThat(meta.get("kms_contract_address").asText())
          .isEqualToIgnoringCase(chain.fixture().kms());
      assertThat(meta.get("chain_id").asLong()).isEqualTo(31337L);
      assertThat(meta.get("gateway_app_id").asText()).isEqualTo(ChainFixture.GATEWAY_APP_ID);
      assertThat(meta.get("is_dev").asBoolean()).isFalse();
      String k256 = meta.get("k256_pubkey").asText();
      assertThat(k256).isNotBlank();
      // A trusted RPC: the KMS container self-authorizes at auth-eth (/bootAuth/kms) with its
      // mock attestation, which the chain allows.
      var tempCa = Http.postJson(https, kmsUrl + "/prpc/GetTempCaCert?json", "null");
      assertThat(tempCa.statusCode()).as(tempCa.body()).isEqualTo(200);

      Services.Stopped kmsStop = Services.dockerStop(kms);
      kms = null;
      stops
          .assertThat(kmsStop.exitCode())
          .as("KMS exit code on docker stop\n" + kmsStop.tail(30))
          .isZero();
      stops.assertThat(kmsStop.oomKilled()).isFalse();
      stops.assertThat(kmsStop.lastLine()).as("KMS final log line").matches(Services.SHUTDOWN_LINE);

      // A new container on the same volume: the same keys, not new ones.
      kms = Services.kmsDev(volume, kmsPort, authPort);
      kms.start();
      JsonNode again = Http.json(Http.get(https, kmsUrl + "/prpc/GetMeta?json"));
      assertThat(again.get("k256_pubkey").asText()).isEqualTo(k256);
      assertThat(rootCa(kms)).isEqualTo(rootCa);
      Services.Stopped kmsStop2 = Services.dockerStop(kms);
      kms = null;
      stops.assertThat(kmsStop2.exitCode()).as("KMS exit code after restart").isZero();

      Services.Stopped authStop = Services.dockerStop(auth);
      stops
          .assertThat(authStop.exitCode())
          .as("auth-eth exit code on docker stop\n" + authStop.tail(30))
          .isZero();
      stops.assertThat(authStop.oomKilled()).isFalse();
      stops
          .assertThat(authStop.lastLine())
          .as("auth-eth final log line")
          .matches(Services.SHUTDOWN_LINE);
      stops.assertAll();
    } finally {
      if (kms != null) {
        kms.stop();
      }
      if (auth.getContainerId() != null) {
        auth.stop();
      }
    }
  }
}
