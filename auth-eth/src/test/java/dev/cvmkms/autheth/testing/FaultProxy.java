package dev.cvmkms.autheth.testing;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A JSON-RPC reverse proxy on 127.0.0.1 that injects provider faults: 429 (with or without
 * Retry-After), hangs, slow answers, connection resets and garbage bodies. It counts calls per
 * JSON-RPC method and remembers when each arrived, so tests can check call rates.
 *
 * <p>The mode can be switched from code or over HTTP ({@code POST /__fault} with a JSON body such
 * as {@code {"mode":"THROTTLE","retryAfter":"1"}}; {@code GET /__fault/stats} returns the counts),
 * so a long soak can run it as its own process: {@code java -cp <test classpath>
 * dev.cvmkms.autheth.testing.FaultProxy <targetUrl> [port]}.
 */
public final class FaultProxy implements AutoCloseable {
  /** What the proxy does with each incoming request. */
  public enum Mode {
    PASS,
    THROTTLE,
    HANG,
    SLOW,
    RESET,
    GARBAGE,
    SERVER_ERROR
  }

  private final Vertx vertx = Vertx.vertx();
  private final HttpClient client;
  private final HttpServer server;
  private final String targetHost;
  private final int targetPort;
  private volatile Mode mode = Mode.PASS;
  private volatile String retryAfter;
  private volatile long slowMillis = 2000;
  private final Map<String, AtomicLong> methodCounts = new ConcurrentHashMap<>();
  private final List<Long> arrivals = new CopyOnWriteArrayList<>();
  private final AtomicLong httpRequests = new AtomicLong();
  private final List<String> requestLines = new CopyOnWriteArrayList<>();

  private FaultProxy(String targetUrl, int port) throws Exception {
    java.net.URI t = java.net.URI.create(targetUrl);
    this.targetHost = t.getHost();
    this.targetPort = t.getPort();
    this.client =
        vertx.createHttpClient(
            new HttpClientOptions().setKeepAlive(true), new PoolOptions().setHttp1MaxSize(32));
    this.server =
        vertx
            .createHttpServer()
            .requestHandler(this::handle)
            .listen(port, "127.0.0.1")
            .await(10, TimeUnit.SECONDS);
  }

  /** Starts a proxy on an ephemeral 127.0.0.1 port in front of {@code targetUrl}. */
  public static FaultProxy start(String targetUrl) throws Exception {
    return new FaultProxy(targetUrl, 0);
  }

  public String url() {
    return "http://127.0.0.1:" + server.actualPort();
  }

  public int port() {
    return server.actualPort();
  }

  public FaultProxy mode(Mode mode) {
    this.mode = mode;
    return this;
  }

  /** For THROTTLE: the Retry-After header to send, or null for none. */
  public FaultProxy retryAfter(String value) {
    this.retryAfter = value;
    return this;
  }

  /** For SLOW: how long to hold each request before forwarding it. */
  public FaultProxy slowMillis(long millis) {
    this.slowMillis = millis;
    return this;
  }

  /** JSON-RPC calls seen (a batch counts each element), by method; all modes count. */
  public long calls(String method) {
    AtomicLong c = methodCounts.get(method);
    return c == null ? 0 : c.get();
  }

  public long totalCalls() {
    return methodCounts.values().stream().mapToLong(AtomicLong::get).sum();
  }

  public long httpRequests() {
    return httpRequests.get();
  }

  /** Arrival times (System.nanoTime) of every JSON-RPC call. */
  public List<Long> arrivals() {
    return new ArrayList<>(arrivals);
  }

  /** Every request's path+query and headers as received, for secret-placement checks. */
  public List<String> requestLines() {
    return new ArrayList<>(requestLines);
  }

  public void resetCounts() {
    methodCounts.clear();
    arrivals.clear();
    httpRequests.set(0);
    requestLines.clear();
  }

  private void handle(HttpServerRequest req) {
    if (req.path().startsWith("/__fault")) {
      control(req);
      return;
    }
    req.body()
        .onSuccess(
            body -> {
              httpRequests.incrementAndGet();
              requestLines.add(req.uri() + " " + req.headers().entries());
              count(body);
              switch (mode) {
                case PASS -> forward(req, body);
                case SLOW -> vertx.setTimer(slowMillis, t -> forward(req, body));
                case THROTTLE -> {
                  var resp =
                      req.response()
                          .setStatusCode(429)
                          .putHeader("content-type", "application/json");
                  if (retryAfter != null) {
                    resp.putHeader("retry-after", retryAfter);
                  }
                  resp.end(
                      "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":429,\"message\":\"Your app has exceeded its compute units per second capacity\"}}");
                }
                case HANG -> {} // never answer; the client must give up on its own
                case RESET -> req.connection().close();
                case GARBAGE ->
                    req.response()
                        .setStatusCode(200)
                        .putHeader("content-type", "application/json")
                        .end("<html>not json");
                case SERVER_ERROR ->
                    req.response().setStatusCode(502).end("<html>bad gateway</html>");
              }
            });
  }

  private void count(Buffer body) {
    long now = System.nanoTime();
    try {
      Object v = Json.decodeValue(body);
      List<Object> items = new ArrayList<>();
      if (v instanceof JsonArray a) {
        a.forEach(items::add);
      } else if (v instanceof List<?> l) {
        items.addAll(l);
      } else {
        items.add(v);
      }
      for (Object item : items) {
        Object method =
            item instanceof JsonObject o
                ? o.getValue("method")
                : item instanceof Map<?, ?> m ? m.get("method") : null;
        methodCounts
            .computeIfAbsent(String.valueOf(method), k -> new AtomicLong())
            .incrementAndGet();
        arrivals.add(now);
      }
    } catch (RuntimeException e) {
      methodCounts.computeIfAbsent("<unparsable>", k -> new AtomicLong()).incrementAndGet();
      arrivals.add(now);
    }
  }

  private void forward(HttpServerRequest req, Buffer body) {
    RequestOptions o =
        new RequestOptions()
            .setMethod(HttpMethod.POST)
            .setHost(targetHost)
            .setPort(targetPort)
            .setURI("/")
            .putHeader("content-type", "application/json");
    client
        .request(o)
        .compose(r -> r.send(body))
        .compose(r -> r.body().map(b -> new Object[] {r.statusCode(), b}))
        .onComplete(
            ar -> {
              if (ar.failed()) {
                req.response().setStatusCode(502).end();
                return;
              }
              req.response()
                  .setStatusCode((Integer) ar.result()[0])
                  .putHeader("content-type", "application/json")
                  .end((Buffer) ar.result()[1]);
            });
  }

  private void control(HttpServerRequest req) {
    if (HttpMethod.GET.equals(req.method())) {
      JsonObject counts = new JsonObject();
      methodCounts.forEach((k, v) -> counts.put(k, v.get()));
      req.response()
          .putHeader("content-type", "application/json")
          .end(
              new JsonObject()
                  .put("mode", mode.name())
                  .put("calls", counts)
                  .put("httpRequests", httpRequests.get())
                  .encode());
      return;
    }
    req.body()
        .onSuccess(
            b -> {
              JsonObject cmd = b.length() == 0 ? new JsonObject() : b.toJsonObject();
              if (cmd.containsKey("mode")) {
                mode(Mode.valueOf(cmd.getString("mode")));
              }
              if (cmd.containsKey("retryAfter")) {
                retryAfter(cmd.getString("retryAfter"));
              }
              if (cmd.containsKey("slowMillis")) {
                slowMillis(cmd.getLong("slowMillis"));
              }
              if (cmd.getBoolean("resetCounts", false)) {
                resetCounts();
              }
              req.response().setStatusCode(204).end();
            });
  }

  @Override
  public void close() {
    try {
      server.close().await(30, TimeUnit.SECONDS);
      client.close().await(30, TimeUnit.SECONDS);
    } catch (Exception ignored) {
      // closing anyway
    }
    vertx.close();
  }

  public static void main(String[] args) throws Exception {
    FaultProxy p = new FaultProxy(args[0], args.length > 1 ? Integer.parseInt(args[1]) : 0);
    System.out.println(new JsonArray().add(p.url()).encode());
    Runtime.getRuntime().addShutdownHook(new Thread(p::close));
    Thread.currentThread().join();
  }
}
