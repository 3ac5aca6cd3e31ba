package dev.cvmkms.kms.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cvmkms.autheth.testing.ChildProcess;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * Test helper: Debian's {@code chromium}, headless, driven over the DevTools protocol (one page,
 * {@code Page.navigate} and {@code Runtime.evaluate}) with the JDK's WebSocket client.
 */
final class HeadlessChromium implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final Process process;
  private final WebSocket socket;
  private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
  private final AtomicInteger ids = new AtomicInteger();

  private HeadlessChromium(Process process, WebSocket socket) {
    this.process = process;
    this.socket = socket;
  }

  /** The chromium binary on PATH, if any. */
  static Optional<Path> find() {
    String path = System.getenv().getOrDefault("PATH", "");
    for (String name : List.of("chromium", "chromium-browser", "google-chrome")) {
      for (String d : path.split(java.io.File.pathSeparator, -1)) {
        if (d.isEmpty()) {
          continue; // an empty entry would mean the working directory: not searched
        }
        Path p = Path.of(d, name);
        if (Files.isExecutable(p)) {
          return Optional.of(p);
        }
      }
    }
    return Optional.empty();
  }

  static HeadlessChromium launch(Path binary, Path userDataDir) throws Exception {
    // Chromium puts its singleton socket under TMPDIR: keep that inside the test's directory.
    Path tmp = Files.createDirectories(userDataDir.resolveSibling("chromium-tmp"));
    ProcessBuilder builder =
        new ProcessBuilder(
                binary.toString(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                "--user-data-dir=" + userDataDir,
                "about:blank")
            .redirectErrorStream(true)
            .redirectOutput(userDataDir.resolveSibling("chromium.log").toFile());
    builder.environment().put("TMPDIR", tmp.toString());
    Process p = builder.start();
    try {
      Path portFile = userDataDir.resolve("DevToolsActivePort");
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (!Files.exists(portFile) || Files.readAllLines(portFile).isEmpty()) {
        if (!p.isAlive() || System.nanoTime() > end) {
          throw new IllegalStateException(
              "chromium did not start: "
                  + Files.readString(userDataDir.resolveSibling("chromium.log")));
        }
        Thread.sleep(100);
      }
      int port = Integer.parseInt(Files.readAllLines(portFile).get(0).trim());
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
      String wsUrl = null;
      while (wsUrl == null) {
        JsonNode targets =
            JSON.readTree(
                http.send(
                        HttpRequest.newBuilder(
                                URI.create("http://127.0.0.1:" + port + "/json/list"))
                            .timeout(Duration.ofSeconds(5))
                            .build(),
                        HttpResponse.BodyHandlers.ofString())
                    .body());
        for (JsonNode t : targets) {
          if ("page".equals(t.path("type").asText())) {
            wsUrl = t.path("webSocketDebuggerUrl").asText();
          }
        }
        if (wsUrl == null) {
          if (System.nanoTime() > end) {
            throw new IllegalStateException("chromium has no page target");
          }
          Thread.sleep(100);
        }
      }
      HeadlessChromium[] self = new HeadlessChromium[1];
      WebSocket ws =
          http.newWebSocketBuilder()
              .connectTimeout(Duration.ofSeconds(5))
              .buildAsync(URI.create(wsUrl), new Listener(() -> self[0]))
              .get(10, TimeUnit.SECONDS);
      self[0] = new HeadlessChromium(p, ws);
      return self[0];
    } catch (Exception e) {
      p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      throw e;
    }
  }

  /** Sends one DevTools command and waits for its result. */
  JsonNode send(String method, ObjectNode params) throws Exception {
    int id = ids.incrementAndGet();
    CompletableFuture<JsonNode> answer = new CompletableFuture<>();
    pending.put(id, answer);
    ObjectNode msg = JSON.createObjectNode().put("id", id).put("method", method);
    msg.set("params", params);
    socket.sendText(JSON.writeValueAsString(msg), true).get(30, TimeUnit.SECONDS);
    JsonNode reply = answer.get(20, TimeUnit.SECONDS);
    if (reply.has("error")) {
      throw new IllegalStateException(method + ": " + reply.get("error"));
    }
    return reply.path("result");
  }

  void navigate(String url) throws Exception {
    send("Page.navigate", JSON.createObjectNode().put("url", url));
  }

  /** Evaluates {@code expression} in the page; returns its value (awaiting promises). */
  JsonNode eval(String expression) throws Exception {
    JsonNode r =
        send(
            "Runtime.evaluate",
            JSON.createObjectNode()
                .put("expression", expression)
                .put("returnByValue", true)
                .put("awaitPromise", true));
    if (r.has("exceptionDetails")) {
      throw new IllegalStateException("page threw: " + r.get("exceptionDetails"));
    }
    return r.path("result").path("value");
  }

  /**
   * Polls a string expression until it satisfies {@code until}; bounded in time. While the page is
   * still loading the expression may throw (its element is not there yet): that counts as "not
   * yet", not as a failure.
   */
  String waitFor(String expression, Predicate<String> until, Duration deadline) throws Exception {
    long end = System.nanoTime() + deadline.toNanos();
    String last = null;
    String guarded =
        "(() => { try { return String(" + expression + "); } catch (e) { return null; } })()";
    while (System.nanoTime() < end) {
      JsonNode v = eval(guarded);
      last = v.isMissingNode() || v.isNull() ? null : v.asText();
      if (last != null && until.test(last)) {
        return last;
      }
      Thread.sleep(100);
    }
    throw new AssertionError(
        "page never satisfied the condition; last value of " + expression + " = " + last);
  }

  @Override
  public void close() {
    try {
      socket.abort();
    } finally {
      ChildProcess.stop(process, Duration.ofSeconds(10));
    }
  }

  private static final class Listener implements WebSocket.Listener {
    private final java.util.function.Supplier<HeadlessChromium> owner;
    private final StringBuilder partial = new StringBuilder();

    Listener(java.util.function.Supplier<HeadlessChromium> owner) {
      this.owner = owner;
    }

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        String text = partial.toString();
        partial.setLength(0);
        try {
          JsonNode msg = JSON.readTree(text.getBytes(StandardCharsets.UTF_8));
          HeadlessChromium self = owner.get();
          if (self != null && msg.has("id")) {
            CompletableFuture<JsonNode> f = self.pending.remove(msg.get("id").asInt());
            if (f != null) {
              f.complete(msg);
            }
          }
        } catch (IOException e) {
          // not JSON: ignore (DevTools only sends JSON)
        }
      }
      ws.request(1);
      return null;
    }
  }
}
