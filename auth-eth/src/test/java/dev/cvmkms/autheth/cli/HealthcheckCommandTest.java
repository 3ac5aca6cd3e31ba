package dev.cvmkms.autheth.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code auth-eth healthcheck} against a loopback server that answers /healthz/ready the way
 * auth-eth does (200 {"status":"UP"} or 503 with a reason).
 */
class HealthcheckCommandTest {
  private final AtomicInteger status = new AtomicInteger(200);
  private HttpServer server;

  @BeforeEach
  void start() throws Exception {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
    server.createContext(
        "/healthz/ready",
        ex -> {
          byte[] body =
              (status.get() == 200
                      ? "{\"status\":\"UP\"}"
                      : "{\"status\":\"DOWN\",\"reason\":\"metadata not loaded\"}")
                  .getBytes(StandardCharsets.UTF_8);
          ex.getResponseHeaders().add("content-type", "application/json");
          ex.sendResponseHeaders(status.get(), body.length);
          ex.getResponseBody().write(body);
          ex.close();
        });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private record Run(int exit, String out, String err) {}

  private static synchronized Run run(Map<String, String> env, String... args) {
    PrintStream out0 = System.out;
    PrintStream err0 = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      int exit = new CommandLine(new HealthcheckCommand(env)).execute(args);
      return new Run(
          exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(out0);
      System.setErr(err0);
    }
  }

  private Map<String, String> env(String host) {
    return Map.of("HOST", host, "PORT", String.valueOf(server.getAddress().getPort()));
  }

  @Test
  void ready_exitsZero_probingTheServeAddressFromHostAndPort() {
    Run r = run(env("127.0.0.1"));
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out().strip()).isEqualTo("{\"status\":\"UP\"}");
  }

  @Test
  void aWildcardHost_isProbedOnLoopback() {
    Run r = run(env("0.0.0.0"));
    assertThat(r.exit()).as(r.err()).isZero();
  }

  @Test
  void notReady_exitsOne_withTheReason() {
    status.set(503);
    Run r = run(env("127.0.0.1"));
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).contains("503").contains("metadata not loaded");
    assertThat(r.out()).isEmpty();
  }

  @Test
  void nothingListening_isUnhealthy() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    Run r = run(Map.of("HOST", "127.0.0.1", "PORT", String.valueOf(port)));
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).contains("127.0.0.1:" + port);
  }

  @Test
  void aListenerThatNeverAnswers_isUnhealthyAfterTheTimeout() throws Exception {
    try (ServerSocket silent = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Run r =
          run(
              Map.of(),
              "--url",
              "http://127.0.0.1:" + silent.getLocalPort() + "/healthz/ready",
              "--timeout",
              "300");
      assertThat(r.exit()).isEqualTo(1);
      assertThat(r.err()).contains("timed out");
    }
  }

  @Test
  void anInvalidServeConfig_isUnhealthy_andSaysWhy() {
    Run r = run(Map.of("PORT", "70000"));
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).contains("PORT");
  }

  @Test
  void anEphemeralPort_cannotBeProbed_withoutUrl() {
    Run r = run(Map.of("PORT", "0"));
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).contains("--url");
  }

  @Test
  void ipv6Hosts_areBracketed() {
    assertThat(
            HealthcheckCommand.readyUrl(
                dev.cvmkms.autheth.config.AuthEthConfig.fromEnv(
                    Map.of("HOST", "::", "PORT", "9200"))))
        .isEqualTo(URI.create("http://[::1]:9200/healthz/ready"));
  }
}
