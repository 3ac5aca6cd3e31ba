package dev.cvmkms.kms.upstream;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import java.net.URI;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A GET proxy in front of a PCS-shaped server that injects the faults a PCCS shows: hang, slow, 429
 * (with or without Retry-After), 5xx, reset, garbage and oversized bodies. Counts requests by path.
 * Only for faults: the happy path is the real stub's answer, forwarded byte for byte.
 */
public final class FaultyPccs implements AutoCloseable {
  public enum Mode {
    PASS,
    HANG,
    SLOW,
    THROTTLE,
    SERVER_ERROR,
    RESET,
    GARBAGE,
    OVERSIZED
  }

  private final Vertx vertx = Vertx.vertx();
  private final HttpClient client;
  private final HttpServer server;
  private final URI target;
  private volatile Mode mode = Mode.PASS;
  private volatile String retryAfter;
  private volatile long slowMillis = 1_000;
  private final Map<String, AtomicInteger> hits = new ConcurrentHashMap<>();
  private final AtomicInteger total = new AtomicInteger();

  private FaultyPccs(URI target, int port) throws Exception {
    this.target = target;
    this.client =
        vertx.createHttpClient(new HttpClientOptions(), new PoolOptions().setHttp1MaxSize(16));
    this.server =
        vertx
            .createHttpServer()
            .requestHandler(this::handle)
            .listen(port, "127.0.0.1")
            .await(10, TimeUnit.SECONDS);
  }

  public static FaultyPccs start(URI target) throws Exception {
    return new FaultyPccs(target, 0);
  }

  public URI uri() {
    return URI.create("http://127.0.0.1:" + server.actualPort());
  }

  public FaultyPccs mode(Mode m) {
    this.mode = m;
    return this;
  }

  public FaultyPccs retryAfter(String v) {
    this.retryAfter = v;
    return this;
  }

  public FaultyPccs slowMillis(long ms) {
    this.slowMillis = ms;
    return this;
  }

  public int hits(String path) {
    AtomicInteger n = hits.get(path);
    return n == null ? 0 : n.get();
  }

  public int total() {
    return total.get();
  }

  public void resetCounts() {
    hits.clear();
    total.set(0);
  }

  private void handle(HttpServerRequest req) {
    total.incrementAndGet();
    hits.computeIfAbsent(req.path(), k -> new AtomicInteger()).incrementAndGet();
    switch (mode) {
      case PASS -> forward(req);
      case SLOW -> vertx.setTimer(slowMillis, t -> forward(req));
      case HANG -> {} // never answer
      case THROTTLE -> {
        var resp = req.response().setStatusCode(429);
        if (retryAfter != null) {
          resp.putHeader("Retry-After", retryAfter);
        }
        resp.end("{\"error\":\"too many requests\"}");
      }
      case SERVER_ERROR -> req.response().setStatusCode(503).end("<html>unavailable</html>");
      case RESET -> req.connection().close();
      case GARBAGE ->
          req.response()
              .setStatusCode(200)
              .putHeader("TCB-Info-Issuer-Chain", "garbage")
              .putHeader("SGX-PCK-CRL-Issuer-Chain", "garbage")
              .putHeader("SGX-Enclave-Identity-Issuer-Chain", "garbage")
              .end("<html>not collateral");
      case OVERSIZED -> {
        var resp = req.response().setStatusCode(200).setChunked(true);
        Buffer chunk = Buffer.buffer(new byte[64 * 1024]);
        for (int i = 0; i < 64; i++) {
          resp.write(chunk);
        }
        resp.end();
      }
    }
  }

  private void forward(HttpServerRequest req) {
    RequestOptions o =
        new RequestOptions()
            .setMethod(HttpMethod.GET)
            .setHost(target.getHost())
            .setPort(target.getPort())
            .setURI(req.uri());
    client
        .request(o)
        .compose(r -> r.send().compose(resp -> resp.body().map(b -> Map.entry(resp, b))))
        .onComplete(
            ar -> {
              if (ar.failed()) {
                req.response().setStatusCode(502).end();
                return;
              }
              var out = req.response().setStatusCode(ar.result().getKey().statusCode());
              ar.result()
                  .getKey()
                  .headers()
                  .forEach(
                      h -> {
                        if (!h.getKey().equalsIgnoreCase("content-length")
                            && !h.getKey().equalsIgnoreCase("transfer-encoding")) {
                          out.putHeader(h.getKey(), h.getValue());
                        }
                      });
              out.end(ar.result().getValue());
            });
  }

  @Override
  public void close() {
    try {
      vertx.close().await(10, TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("fault proxy did not stop", e);
    }
  }

  /** {@code java -cp <test classpath> dev.cvmkms.kms.upstream.FaultyPccs <target> [port]}. */
  public static void main(String[] args) throws Exception {
    FaultyPccs p =
        new FaultyPccs(URI.create(args[0]), args.length > 1 ? Integer.parseInt(args[1]) : 0);
    System.out.println("faulty pccs on " + p.uri());
  }
}
