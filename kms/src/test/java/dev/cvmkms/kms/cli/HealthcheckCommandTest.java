package dev.cvmkms.kms.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cvmkms.kms.attestation.mock.MockTdx;
import dev.cvmkms.kms.client.FakeSourceKms;
import dev.cvmkms.kms.keys.RootKeys;
import dev.cvmkms.kms.ops.OpsRoutes;
import dev.cvmkms.kms.ops.Readiness;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.ext.web.Router;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code kms healthcheck} against a real TLS listener serving the KMS's ops routes. */
class HealthcheckCommandTest {
  private static Vertx vertx;
  private static RootKeys keys;
  private static RootKeys otherKeys;
  private static final Readiness readiness = new Readiness();
  private static HttpServer server;

  @TempDir Path tmp;
  private Path certDir;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    MockTdx tdx = MockTdx.create(Instant.now());
    var att = FakeSourceKms.mockAttestation(tdx);
    keys = FakeSourceKms.keysFor(att, "kms.example");
    otherKeys = FakeSourceKms.keysFor(att, "kms.example");
    Router router = Router.router(vertx);
    OpsRoutes.mount(
        router, readiness, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), false);
    server =
        vertx
            .createHttpServer(
                new HttpServerOptions()
                    .setSsl(true)
                    .setKeyCertOptions(
                        new PemKeyCertOptions()
                            .addCertValue(io.vertx.core.buffer.Buffer.buffer(keys.rpcCertPem()))
                            .addKeyValue(
                                io.vertx.core.buffer.Buffer.buffer(keys.secretRpcKeyPem()))))
            .requestHandler(router)
            .listen(0, "127.0.0.1")
            .toCompletionStage()
            .toCompletableFuture()
            .get(30, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @BeforeEach
  void certDir() throws Exception {
    certDir = Files.createDirectories(tmp.resolve("certs"));
    Files.writeString(certDir.resolve("root-ca.crt"), keys.rootCaCertPem());
  }

  private record Run(int exit, String out, String err) {}

  private static synchronized Run run(String... args) {
    PrintStream out0 = System.out;
    PrintStream err0 = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      int exit = new CommandLine(new HealthcheckCommand()).execute(args);
      return new Run(
          exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(out0);
      System.setErr(err0);
    }
  }

  private Path config(String address, int port) throws Exception {
    Path toml = tmp.resolve("kms.toml");
    Files.writeString(
        toml,
        "[rpc]\naddress = \""
            + address
            + "\"\nport = "
            + port
            + "\n[core]\ncert_dir = \""
            + certDir
            + "\"\n");
    return toml;
  }

  @Test
  void ready_exitsZero_withTheUrlAndRootCaTakenFromTheConfig() throws Exception {
    readiness.keysLoaded();
    readiness.accepting();
    // A wildcard bind address is probed on loopback.
    Run r = run("--config", config("0.0.0.0", server.actualPort()).toString());
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out().strip()).isEqualTo("OK");
  }

  @Test
  void notReady_exitsOne_withTheServersReason() throws Exception {
    Readiness notReady = new Readiness();
    Router router = Router.router(vertx);
    OpsRoutes.mount(router, notReady, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), false);
    HttpServer s =
        vertx
            .createHttpServer(
                new HttpServerOptions()
                    .setSsl(true)
                    .setKeyCertOptions(
                        new PemKeyCertOptions()
                            .addCertValue(io.vertx.core.buffer.Buffer.buffer(keys.rpcCertPem()))
                            .addKeyValue(
                                io.vertx.core.buffer.Buffer.buffer(keys.secretRpcKeyPem()))))
            .requestHandler(router)
            .listen(0, "127.0.0.1")
            .toCompletionStage()
            .toCompletableFuture()
            .get(30, TimeUnit.SECONDS);
    try {
      Run r = run("--config", config("127.0.0.1", s.actualPort()).toString());
      assertThat(r.exit()).isEqualTo(1);
      assertThat(r.err()).contains("503").contains("keys not loaded");
      assertThat(r.out()).isEmpty();
    } finally {
      s.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aListenerWhoseCertificateDoesNotChainToTheRootCa_isUnhealthy() throws Exception {
    readiness.keysLoaded();
    readiness.accepting();
    Files.writeString(certDir.resolve("root-ca.crt"), otherKeys.rootCaCertPem());
    Run r = run("--config", config("127.0.0.1", server.actualPort()).toString());
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.out()).isEmpty();
  }

  @Test
  void nothingListening_isUnhealthy() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    Run r = run("--config", config("127.0.0.1", port).toString());
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).contains("127.0.0.1:" + port);
  }

  @Test
  void aListenerThatNeverAnswers_isUnhealthyAfterTheTimeout() throws Exception {
    try (ServerSocket silent = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Run r =
          run(
              "--url",
              "https://127.0.0.1:" + silent.getLocalPort() + "/healthz/ready",
              "--root-ca",
              certDir.resolve("root-ca.crt").toString(),
              "--timeout",
              "300");
      assertThat(r.exit()).isEqualTo(1);
      assertThat(r.err()).contains("timed out");
    }
  }

  @Test
  void beforeBootstrap_thereIsNoRootCa_andTheProbeSaysSo() throws Exception {
    Files.delete(certDir.resolve("root-ca.crt"));
    Run r = run("--config", config("127.0.0.1", server.actualPort()).toString());
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).contains("no root CA").contains("root-ca.crt");
  }

  @Test
  void aMissingConfig_isUnhealthy_andNamesTheFile() {
    Run r = run("--config", tmp.resolve("absent.toml").toString());
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).contains("absent.toml");
  }

  @Test
  void wildcardAndIpv6Addresses_areProbedOnLoopback() {
    assertThat(HealthcheckCommand.readyUrl("0.0.0.0", 8000))
        .isEqualTo(URI.create("https://127.0.0.1:8000/healthz/ready"));
    assertThat(HealthcheckCommand.readyUrl("::", 8000))
        .isEqualTo(URI.create("https://[::1]:8000/healthz/ready"));
    assertThat(HealthcheckCommand.readyUrl("::1", 9))
        .isEqualTo(URI.create("https://[::1]:9/healthz/ready"));
    assertThat(HealthcheckCommand.readyUrl("10.1.2.3", 9))
        .isEqualTo(URI.create("https://10.1.2.3:9/healthz/ready"));
  }
}
