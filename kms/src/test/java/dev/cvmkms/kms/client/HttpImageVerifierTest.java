package dev.cvmkms.kms.client;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cvmkms.kms.KmsException;
import dev.cvmkms.kms.attestation.BootInfo;
import dev.cvmkms.kms.attestation.VerifiedAttestation;
import dev.cvmkms.kms.attestation.mock.MockTdx;
import dev.cvmkms.kms.attestation.ratls.VersionedAttestation;
import dev.cvmkms.kms.rpc.CryptoPool;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The dstack-verifier delegate against a fake verifier on loopback. */
class HttpImageVerifierTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HexFormat HEX = HexFormat.of();

  private final Vertx vertx = Vertx.vertx();
  private final CryptoPool crypto = new CryptoPool(vertx, 1, 10);
  private final Instant now = Instant.now();
  private final MockTdx guest = new MockTdx(MockTdx.defaultSeed(), now, 1);
  private final byte[] reportData = new byte[64];
  private final CopyOnWriteArrayList<JsonNode> requests = new CopyOnWriteArrayList<>();
  private volatile Consumer<HttpServerRequest> answer;
  private HttpServer server;
  private VerifiedAttestation attestation;
  private BootInfo boot;

  @BeforeEach
  void start() throws Exception {
    reportData[0] = 7;
    attestation = guest.verifier().verify(guest.attestation(reportData), reportData, now);
    boot = attestation.bootInfo(false, "");
    server =
        await(
            vertx
                .createHttpServer()
                .requestHandler(
                    req ->
                        req.body()
                            .onSuccess(
                                b -> {
                                  try {
                                    requests.add(JSON.readTree(b.getBytes()));
                                  } catch (Exception e) {
                                    throw new AssertionError(e);
                                  }
                                  answer.accept(req);
                                }))
                .listen(0, "127.0.0.1"));
  }

  @AfterEach
  void stop() throws Exception {
    await(vertx.close());
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  private HttpImageVerifier verifier(Duration timeout) {
    return new HttpImageVerifier(
        vertx, crypto, URI.create("http://127.0.0.1:" + server.actualPort() + "/"), timeout);
  }

  private String verdict(boolean valid, boolean imageOk, String reportDataHex, String hash) {
    return "{\"is_valid\":"
        + valid
        + ",\"details\":{\"os_image_hash_verified\":"
        + imageOk
        + ",\"report_data\":\""
        + reportDataHex
        + "\",\"boot_info\":{\"osImageHash\":\""
        + hash
        + "\"}},\"reason\":"
        + (valid ? "null" : "\"OS image hash verification failed: MRs do not match\"")
        + "}";
  }

  private Throwable failure(Future<Void> f) throws Exception {
    try {
      await(f);
    } catch (java.util.concurrent.ExecutionException e) {
      return e.getCause();
    }
    throw new AssertionError("expected a failure");
  }

  @Test
  void positiveVerdict_forThisAttestationAndHash_passes_andTheVerifierSeesTheJudgedVmConfig()
      throws Exception {
    answer =
        req ->
            req.response().end(verdict(true, true, HEX.formatHex(reportData), boot.osImageHash()));
    String requestVmConfig = "{\"os_image_hash\":\"" + boot.osImageHash() + "\",\"x\":1}";

    await(verifier(Duration.ofSeconds(5)).verify(attestation, requestVmConfig, boot));

    JsonNode sent = requests.get(0);
    VersionedAttestation seen =
        VersionedAttestation.decode(HEX.parseHex(sent.get("attestation").asText()));
    assertThat(seen.config()).isEqualTo(requestVmConfig);
    assertThat(seen.quote()).isEqualTo(attestation.attestation().quote());
    assertThat(sent.size()).isEqualTo(1); // never mixes a top-level vm_config in

    // An empty request vm_config falls back to the embedded one.
    await(verifier(Duration.ofSeconds(5)).verify(attestation, "", boot));
    assertThat(
            VersionedAttestation.decode(HEX.parseHex(requests.get(1).get("attestation").asText()))
                .config())
        .isEqualTo(guest.vmConfig());
  }

  @Test
  void negativeOrMismatchedVerdicts_deny() throws Exception {
    answer =
        req ->
            req.response()
                .end(verdict(false, false, HEX.formatHex(reportData), boot.osImageHash()));
    assertThat(failure(verifier(Duration.ofSeconds(5)).verify(attestation, "", boot)))
        .isInstanceOfSatisfying(
            KmsException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(KmsException.Kind.DENIED);
              assertThat(e.getMessage())
                  .isEqualTo(
                      "Failed to verify os image hash: OS image hash verification failed: MRs do"
                          + " not match");
            });

    answer = req -> req.response().end(verdict(true, true, "00".repeat(64), boot.osImageHash()));
    assertThat(failure(verifier(Duration.ofSeconds(5)).verify(attestation, "", boot)))
        .hasMessageContaining("another attestation");

    answer =
        req -> req.response().end(verdict(true, true, HEX.formatHex(reportData), "ab".repeat(32)));
    assertThat(failure(verifier(Duration.ofSeconds(5)).verify(attestation, "", boot)))
        .hasMessageContaining("another os image hash");
  }

  @Test
  void unavailableVerifier_failsClosed() throws Exception {
    answer = req -> req.response().setStatusCode(500).end("oops");
    assertThat(failure(verifier(Duration.ofSeconds(5)).verify(attestation, "", boot)))
        .isInstanceOfSatisfying(
            KmsException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(KmsException.Kind.UPSTREAM_UNAVAILABLE);
              assertThat(e.getMessage()).startsWith("Failed to verify os image hash: ");
            });

    answer = req -> req.response().end("not json");
    assertThat(failure(verifier(Duration.ofSeconds(5)).verify(attestation, "", boot)))
        .hasMessageContaining("not JSON");

    answer = req -> req.response().end("x".repeat(HttpImageVerifier.MAX_RESPONSE_BYTES + 10));
    assertThat(failure(verifier(Duration.ofSeconds(5)).verify(attestation, "", boot)))
        .hasMessageContaining("larger than");

    answer = req -> {}; // hangs
    long t0 = System.nanoTime();
    assertThat(failure(verifier(Duration.ofMillis(300)).verify(attestation, "", boot)))
        .hasMessageContaining("no answer within 300 ms");
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
  }

  @Test
  void nothingListening_failsClosed() throws Exception {
    HttpImageVerifier v =
        new HttpImageVerifier(
            vertx, crypto, URI.create("http://127.0.0.1:1"), Duration.ofSeconds(2));
    assertThat(failure(v.verify(attestation, "", boot)))
        .isInstanceOf(KmsException.class)
        .hasMessageStartingWith("Failed to verify os image hash: image verifier: ");
  }
}
