package dev.cvmkms.autheth.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A local anvil chain from the pinned npm package ({@code npm ci --prefix auth-eth}), on 127.0.0.1
 * with a free port, stopped by PID.
 */
public final class Anvil implements AutoCloseable {
  /** anvil's first default account, funded on every fresh chain. */
  public static final String DEPLOYER_KEY =
      "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

  private final Process process;
  private final int port;

  private Anvil(Process process, int port) {
    this.process = process;
    this.port = port;
  }

  public static Path binary() {
    Path home = Path.of(System.getProperty("autheth.home", "."));
    Path bin = home.resolve("node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil");
    if (!Files.isExecutable(bin)) {
      throw new IllegalStateException(
          "anvil not installed: run `npm ci --prefix auth-eth` (looked for " + bin + ")");
    }
    return bin;
  }

  public static Anvil start() throws Exception {
    for (int tries = 0; tries < 5; tries++) {
      int port = freePort();
      Process p =
          new ProcessBuilder(
                  binary().toString(),
                  "--host",
                  "127.0.0.1",
                  "--port",
                  String.valueOf(port),
                  "--silent")
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      Anvil a = new Anvil(p, port);
      if (a.awaitReady(Duration.ofSeconds(10))) {
        return a;
      }
      a.close(); // the port was taken in between: try another
    }
    throw new IllegalStateException("anvil did not start");
  }

  public String url() {
    return "http://127.0.0.1:" + port;
  }

  public long pid() {
    return process.pid();
  }

  private boolean awaitReady(Duration max) throws InterruptedException {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();
    long until = System.nanoTime() + max.toNanos();
    while (System.nanoTime() < until && process.isAlive()) {
      try {
        HttpResponse<String> r =
            http.send(
                HttpRequest.newBuilder(URI.create(url()))
                    .timeout(Duration.ofSeconds(1))
                    .header("content-type", "application/json")
                    .POST(
                        HttpRequest.BodyPublishers.ofString(
                            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\",\"params\":[]}"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200 && r.body().contains("0x7a69")) {
          return true;
        }
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(50);
    }
    return false;
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  @Override
  public void close() {
    ChildProcess.stop(process, java.time.Duration.ofSeconds(5));
  }
}
