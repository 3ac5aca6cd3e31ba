package dev.cvmkms.kms;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.cvmkms.autheth.testing.BlockedThreadWarnings;
import dev.cvmkms.kms.attestation.mock.MockTdx;
import dev.cvmkms.kms.attestation.ratls.RaTlsExtensions;
import dev.cvmkms.kms.client.RaTlsKmsClient;
import dev.cvmkms.kms.client.ServerAttestationPolicy;
import dev.cvmkms.kms.encoding.Pem;
import dev.cvmkms.kms.keys.EcKeys;
import dev.cvmkms.kms.keys.csr.CertConfig;
import dev.cvmkms.kms.keys.csr.CertSigningRequest;
import dev.cvmkms.kms.keys.csr.CsrAttestation;
import dev.cvmkms.kms.keys.csr.ScaleCsr;
import dev.cvmkms.kms.proto.GetKmsKeyRequest;
import dev.cvmkms.kms.proto.KmsKeyResponse;
import dev.cvmkms.kms.rpc.CryptoPool;
import io.vertx.core.Vertx;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Onboarding with real processes: a KMS bootstrapped through its Onboard RPC, and a replica B that
 * onboards from a running KMS A and then serves the same root keys. The replication part needs A to
 * serve GetKmsKey, the get-keys part GetAppKey; each is skipped with a message while the method is
 * not served on this build.
 */
class OnboardIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration READY = Duration.ofSeconds(60);
  private static final HttpClient PLAIN =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @TempDir Path tmp;

  // ---- helpers ----

  private static HttpResponse<String> plainGet(int port, String path) throws Exception {
    return PLAIN.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(60))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> plainPost(int port, String method, String json)
      throws Exception {
    return PLAIN.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/prpc/" + method + "?json"))
            .timeout(Duration.ofSeconds(90))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** Polls the onboarding listener's /health until it answers OK. */
  private static void awaitOnboarding(KmsProcess kms, int port) throws Exception {
    long end = System.nanoTime() + READY.toNanos();
    while (System.nanoTime() < end) {
      if (!kms.process().isAlive()) {
        throw new AssertionError("kms exited:\n" + kms.log());
      }
      try {
        if ("OK".equals(plainGet(port, "/health").body())) {
          return;
        }
      } catch (java.io.IOException e) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    throw new AssertionError("onboarding listener not up:\n" + kms.log());
  }

  private static JsonNode getMeta(KmsProcess kms, Path rootCa) throws Exception {
    HttpResponse<String> r =
        KmsProcess.client(rootCa)
            .send(kms.get("/prpc/GetMeta"), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return JSON.readTree(r.body());
  }

  /** True unless the KMS answers "Service not found" for {@code method}. */
  private static boolean serves(KmsProcess kms, Path rootCa, String method) throws Exception {
    HttpResponse<String> r =
        KmsProcess.client(rootCa)
            .send(
                kms.post(
                    "/prpc/" + method + "?json",
                    "application/json",
                    "{}".getBytes(StandardCharsets.UTF_8)),
                HttpResponse.BodyHandlers.ofString());
    return !r.body().contains("Service not found");
  }

  private static void assertNoBlockedEventLoop(KmsProcess kms) {
    assertThat(BlockedThreadWarnings.blocking(kms.log())).as("blocked event loops").isEmpty();
  }

  private static String[] dev(Path state, int port, String... extra) {
    List<String> args =
        new ArrayList<>(List.of("dev", "--state-dir", state.toString(), "--port", "" + port));
    args.addAll(List.of(extra));
    return args.toArray(String[]::new);
  }

  // ---- tests ----

  @Test
  void bootstrapThroughTheOnboardRpc_thenFinish_servesThoseKeysOverHttps() throws Exception {
    Path state = tmp.resolve("c");
    int port = KmsProcess.freePort();
    try (KmsProcess kms = KmsProcess.start(tmp, port, dev(state, port, "--onboard"))) {
      awaitOnboarding(kms, port);
      HttpResponse<String> info = plainPost(port, "Onboard.GetAttestationInfo", "null");
      assertThat(info.statusCode()).as(info.body()).isEqualTo(200);
      assertThat(JSON.readTree(info.body()).get("mr_aggregated").asText()).matches("[0-9a-f]{64}");
      HttpResponse<String> early = plainGet(port, "/finish");
      assertThat(early.statusCode()).isEqualTo(400);
      assertThat(early.body()).contains("nothing to finish");
      assertThat(plainGet(port, "/").body()).contains("KMS onboarding");

      HttpResponse<String> boot =
          plainPost(port, "Onboard.Bootstrap", "{\"domain\":\"localhost\"}");
      assertThat(boot.statusCode()).as(boot.body()).isEqualTo(200);
      JsonNode b = JSON.readTree(boot.body());
      HttpResponse<String> again =
          plainPost(port, "Bootstrap", "{\"domain\":\"localhost\"}"); // prefix optional
      assertThat(again.body()).contains("KMS has already been bootstrapped");
      assertThat(plainGet(port, "/finish").body()).isEqualTo("OK");

      Path rootCa = state.resolve("root-ca.crt");
      kms.awaitReady(rootCa, READY);
      JsonNode meta = getMeta(kms, rootCa);
      assertThat(meta.get("k256_pubkey").asText()).isEqualTo(b.get("k256_pubkey").asText());
      assertThat(meta.get("bootstrap_info").get("ca_pubkey").asText())
          .isEqualTo(b.get("ca_pubkey").asText());
      assertThat(meta.get("bootstrap_info").get("attestation").asText())
          .isEqualTo(b.get("attestation").asText());
      X509Certificate root = KmsProcess.readCert(rootCa);
      assertThat(HexFormat.of().formatHex(root.getPublicKey().getEncoded()))
          .isEqualTo(b.get("ca_pubkey").asText());
      assertNoBlockedEventLoop(kms);
    }
  }

  @Test
  void replicaOnboardsFromARunningKms_andBothServeTheSameRootKeys() throws Exception {
    Path stateA = tmp.resolve("a");
    Path stateB = tmp.resolve("b");
    Path rootA = stateA.resolve("root-ca.crt");
    Path rootB = stateB.resolve("root-ca.crt");
    int portA = KmsProcess.freePort();
    try (KmsProcess a = KmsProcess.start(tmp, portA, dev(stateA, portA))) {
      a.awaitReady(rootA, READY);
      assertThat(serves(a, rootA, "GetKmsKey")).as("GetKmsKey is served").isTrue();
      int portB = KmsProcess.freePort();
      try (KmsProcess b = KmsProcess.start(tmp, portB, dev(stateB, portB, "--onboard"))) {
        awaitOnboarding(b, portB);
        HttpResponse<String> onboarded =
            plainPost(
                portB,
                "Onboard.Onboard",
                "{\"source_url\":\"https://localhost:" + portA + "\",\"domain\":\"localhost\"}");
        assertThat(onboarded.statusCode()).as(onboarded.body() + "\n" + b.log()).isEqualTo(200);
        String k256 = JSON.readTree(onboarded.body()).get("k256_pubkey").asText();
        assertThat(Files.exists(stateB.resolve("bootstrap-info.json"))).isFalse();
        assertThat(plainGet(portB, "/finish").body()).isEqualTo("OK");
        b.awaitReady(rootB, READY);

        JsonNode metaA = getMeta(a, rootA);
        JsonNode metaB = getMeta(b, rootB);
        assertThat(metaA.get("k256_pubkey").asText()).isEqualTo(k256);
        assertThat(metaB.get("k256_pubkey").asText()).isEqualTo(k256);
        assertThat(metaB.get("bootstrap_info").isNull()).isTrue();
        X509Certificate caA = KmsProcess.readCert(rootA);
        X509Certificate caB = KmsProcess.readCert(rootB);
        assertThat(caB.getPublicKey().getEncoded()).isEqualTo(caA.getPublicKey().getEncoded());
        // B's RPC certificate chains to A's root: guests can switch between the two.
        KmsProcess.readCert(stateB.resolve("rpc.crt")).verify(caA.getPublicKey());

        // GetKmsKey from both, as a third KMS would ask: the same key material.
        KmsKeyResponse fromA = getKmsKey(portA);
        KmsKeyResponse fromB = getKmsKey(portB);
        assertThat(fromB.getKeys(0).getK256Key()).isEqualTo(fromA.getKeys(0).getK256Key());
        assertThat(EcKeys.p256Scalar(EcKeys.parseP256Pkcs8Pem(fromB.getKeys(0).getCaKey())))
            .isEqualTo(EcKeys.p256Scalar(EcKeys.parseP256Pkcs8Pem(fromA.getKeys(0).getCaKey())));
        assertThat(EcKeys.p256Scalar(EcKeys.parseP256Pkcs8Pem(fromB.getTempCaKey())))
            .isEqualTo(EcKeys.p256Scalar(EcKeys.parseP256Pkcs8Pem(fromA.getTempCaKey())));
        assertNoBlockedEventLoop(a);
        assertNoBlockedEventLoop(b);
      }
    }
  }

  /**
   * SignCert as a guest agent would call it (SCALE CSR v2 with a mock attestation bound to the CSR
   * key); returns the App CA of the chain after checking the chain's shape.
   */
  private static X509Certificate signCertAppCa(KmsProcess kms, Path root, String appIdHex)
      throws Exception {
    HexFormat hex = HexFormat.of();
    KeyPair key = EcKeys.generateP256(new SecureRandom());
    byte[] appId = hex.parseHex(appIdHex);
    byte[] attestation =
        MockTdx.create(Instant.now())
            .guest(appId, new byte[32], new byte[20])
            .versionedAttestation(RaTlsExtensions.reportData(key.getPublic().getEncoded()));
    var csr =
        new CertSigningRequest(
            ScaleCsr.CONFIRM,
            key.getPublic().getEncoded(),
            new CertConfig(
                Optional.empty(),
                "app.example",
                List.of("app.example"),
                true,
                false,
                false,
                false,
                OptionalLong.empty(),
                OptionalLong.empty()),
            new CsrAttestation.Versioned(attestation));
    byte[] scale = ScaleCsr.encode(csr);
    Signature sig = Signature.getInstance("SHA256withECDSA");
    sig.initSign(key.getPrivate());
    sig.update(scale);
    String body =
        "{\"api_version\":2,\"csr\":\""
            + hex.formatHex(scale)
            + "\",\"signature\":\""
            + hex.formatHex(sig.sign())
            + "\"}";
    HttpResponse<String> r =
        KmsProcess.client(root)
            .send(
                kms.post(
                    "/prpc/SignCert?json",
                    "application/json",
                    body.getBytes(StandardCharsets.UTF_8)),
                HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode chain = JSON.readTree(r.body()).get("certificate_chain");
    assertThat(chain).hasSize(3);
    X509Certificate appCa = Pem.parseCertificate(chain.get(1).asText());
    assertThat(appCa.getSubjectX500Principal().getName()).contains("CN=Dstack App CA");
    return appCa;
  }

  /** GetKmsKey over mutual RA-TLS with the mock KMS identity, the server fully checked. */
  private static KmsKeyResponse getKmsKey(int port) throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      Clock clock = Clock.systemUTC();
      MockTdx tdx = MockTdx.create(Instant.now());
      RaTlsKmsClient client =
          RaTlsKmsClient.create(
              vertx,
              new CryptoPool(vertx, 2, 60),
              RaTlsKmsClient.Settings.of(
                  "https://localhost:" + port,
                  Optional.empty(),
                  tdx,
                  new ServerAttestationPolicy(tdx.verifier(clock), true, clock)));
      return client
          .openAndCall(
              "GetKmsKey",
              GetKmsKeyRequest.newBuilder().setVmConfig(tdx.vmConfig()).build(),
              KmsKeyResponse.getDefaultInstance())
          .eventually(client::close)
          .toCompletionStage()
          .toCompletableFuture()
          .get(60, TimeUnit.SECONDS);
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  /** {@code kms get-keys} as a process: exit code, stdout, stderr. */
  private record CliResult(int exit, String stdout, String stderr) {}

  private CliResult getKeys(int port, String appId) throws Exception {
    String jar = System.getProperty("kms.jar", "target/kms.jar");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Path out = Files.createTempFile(tmp, "get-keys-", ".out");
    Path err = Files.createTempFile(tmp, "get-keys-", ".err");
    Process p =
        new ProcessBuilder(
                java,
                "--enable-native-access=ALL-UNNAMED",
                "-Xmx256m",
                "-jar",
                jar,
                "get-keys",
                "--url",
                "https://localhost:" + port,
                "--app-id",
                appId,
                "--instance-id",
                "22".repeat(20),
                "--insecure-mock-attestation")
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .start();
    if (!p.waitFor(90, TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      throw new AssertionError("get-keys hung:\n" + Files.readString(err));
    }
    return new CliResult(
        p.exitValue(),
        Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8));
  }

  /** A webhook whose app decision the test flips (revocation); KMS checks always allowed. */
  private static HttpServer webhook(AtomicBoolean appAllowed) throws Exception {
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    server.createContext(
        "/",
        exchange -> {
          String path = exchange.getRequestURI().getPath();
          exchange.getRequestBody().readAllBytes();
          String body;
          if (path.equals("/bootAuth/app")) {
            boolean ok = appAllowed.get();
            body =
                "{\"isAllowed\":"
                    + ok
                    + ",\"reason\":\""
                    + (ok ? "" : "app revoked")
                    + "\",\"gatewayAppId\":\"any\"}";
          } else if (path.equals("/bootAuth/kms")) {
            body = "{\"isAllowed\":true,\"reason\":\"\",\"gatewayAppId\":\"any\"}";
          } else {
            body =
                "{\"status\":\"ok\",\"kmsContractAddr\":\"0x00000000000000000000000000000000000000aa\","
                    + "\"gatewayAppId\":\"any\",\"chainId\":31337,"
                    + "\"appImplementation\":\"0x00000000000000000000000000000000000000bb\"}";
          }
          byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
          exchange.getResponseHeaders().add("Content-Type", "application/json");
          exchange.sendResponseHeaders(200, bytes.length);
          exchange.getResponseBody().write(bytes);
          exchange.close();
        });
    server.start();
    return server;
  }

  @Test
  void getKeys_sameAppKeysFromSourceAndReplica_andARevokedAppIsRefusedNextTime() throws Exception {
    AtomicBoolean appAllowed = new AtomicBoolean(true);
    HttpServer hook = webhook(appAllowed);
    String authUrl = "http://127.0.0.1:" + hook.getAddress().getPort();
    Path stateA = tmp.resolve("a");
    Path stateB = tmp.resolve("b");
    Path rootA = stateA.resolve("root-ca.crt");
    int portA = KmsProcess.freePort();
    try (KmsProcess a = KmsProcess.start(tmp, portA, dev(stateA, portA, "--auth-url", authUrl))) {
      a.awaitReady(rootA, READY);
      assertThat(serves(a, rootA, "GetKmsKey") && serves(a, rootA, "GetAppKey"))
          .as("GetAppKey and GetKmsKey are served")
          .isTrue();
      int portB = KmsProcess.freePort();
      try (KmsProcess b =
          KmsProcess.start(tmp, portB, dev(stateB, portB, "--onboard", "--auth-url", authUrl))) {
        awaitOnboarding(b, portB);
        HttpResponse<String> onboarded =
            plainPost(
                portB,
                "Onboard",
                "{\"source_url\":\"https://localhost:"
                    + portA
                    + "/prpc\",\"domain\":\"localhost\"}");
        assertThat(onboarded.statusCode()).as(onboarded.body() + "\n" + b.log()).isEqualTo(200);
        assertThat(plainGet(portB, "/finish").body()).isEqualTo("OK");
        b.awaitReady(stateB.resolve("root-ca.crt"), READY);

        String appId = "11".repeat(20);
        CliResult fromA = getKeys(portA, appId);
        CliResult fromB = getKeys(portB, appId);
        assertThat(fromA.exit()).as(fromA.stderr()).isZero();
        assertThat(fromB.exit()).as(fromB.stderr()).isZero();
        // Exactly one JSON document on stdout.
        assertThat(fromA.stdout().strip().lines().count()).isEqualTo(1);
        JsonNode keysA = JSON.readTree(fromA.stdout());
        JsonNode keysB = JSON.readTree(fromB.stdout());
        for (String field : List.of("disk_crypt_key", "env_crypt_key", "k256_key")) {
          assertThat(keysA.get(field).asText()).as(field).isNotEmpty();
          assertThat(keysB.get(field).asText()).as(field).isEqualTo(keysA.get(field).asText());
        }
        // The App CA that SignCert issues under is derived from the root key: the same on both.
        X509Certificate appCaA = signCertAppCa(a, rootA, appId);
        X509Certificate appCaB = signCertAppCa(b, stateB.resolve("root-ca.crt"), appId);
        assertThat(appCaB.getPublicKey().getEncoded())
            .isEqualTo(appCaA.getPublicKey().getEncoded());
        appCaB.verify(KmsProcess.readCert(rootA).getPublicKey());

        CliResult other = getKeys(portA, "33".repeat(20));
        assertThat(other.exit()).as(other.stderr()).isZero();
        assertThat(JSON.readTree(other.stdout()).get("disk_crypt_key").asText())
            .isNotEqualTo(keysA.get("disk_crypt_key").asText());

        appAllowed.set(false);
        CliResult revoked = getKeys(portA, appId);
        assertThat(revoked.exit()).isNotZero();
        assertThat(revoked.stdout()).isEmpty();
        assertThat(revoked.stderr()).contains("get-keys failed");
        assertNoBlockedEventLoop(a);
        assertNoBlockedEventLoop(b);
      }
    } finally {
      hook.stop(0);
    }
  }
}
