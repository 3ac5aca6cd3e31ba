package dev.cvmkms.kms.auth;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fake auth webhook on 127.0.0.1 (ephemeral port) whose behaviour a test switches per endpoint:
 * answer, fail, throttle, hang, trickle, reset, or send garbage. It records every request and
 * counts connections, so tests can see what reached it and how many sockets the client opened.
 */
final class FakeWebhook implements AutoCloseable {
  static final String INFO_OK =
      "{\"status\":\"ok\",\"kmsContractAddr\":\"0xabc\",\"gatewayAppId\":\"0xgw\",\"chainId\":31337,"
          + "\"appImplementation\":\"0ximpl\",\"ethRpcUrl\":\"http://rpc\"}";
  static final String ALLOW = "{\"isAllowed\":true,\"gatewayAppId\":\"0xgw\",\"reason\":\"\"}";

  /** What the server does with one request (body already read). */
  interface Behaviour {
    void handle(HttpServerRequest req, Buffer body);
  }

  record Recorded(String method, String uri, MultiMap headers, String body, long atNanos) {}

  private final Vertx vertx;
  private final HttpServer server;
  volatile Behaviour info = json(200, INFO_OK);
  volatile Behaviour app = json(200, ALLOW);
  volatile Behaviour kms = json(200, ALLOW);
  final List<Recorded> infoRequests = new CopyOnWriteArrayList<>();
  final List<Recorded> appRequests = new CopyOnWriteArrayList<>();
  final List<Recorded> kmsRequests = new CopyOnWriteArrayList<>();
  final AtomicInteger connectionsOpened = new AtomicInteger();
  final AtomicInteger connectionsActive = new AtomicInteger();
  final AtomicInteger connectionsMaxActive = new AtomicInteger();

  private FakeWebhook(Vertx vertx) {
    this.vertx = vertx;
    this.server = vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0));
    server.connectionHandler(
        conn -> {
          connectionsOpened.incrementAndGet();
          int now = connectionsActive.incrementAndGet();
          connectionsMaxActive.accumulateAndGet(now, Math::max);
          conn.closeHandler(v -> connectionsActive.decrementAndGet());
        });
    server.requestHandler(
        req ->
            req.body()
                .onSuccess(
                    body -> {
                      Recorded r =
                          new Recorded(
                              req.method().name(),
                              req.uri(),
                              MultiMap.caseInsensitiveMultiMap().addAll(req.headers()),
                              body.toString(),
                              System.nanoTime());
                      String path = req.path();
                      if (path.endsWith("/bootAuth/app")) {
                        appRequests.add(r);
                        app.handle(req, body);
                      } else if (path.endsWith("/bootAuth/kms")) {
                        kmsRequests.add(r);
                        kms.handle(req, body);
                      } else {
                        infoRequests.add(r);
                        info.handle(req, body);
                      }
                    }));
  }

  static FakeWebhook start(Vertx vertx) throws Exception {
    FakeWebhook f = new FakeWebhook(vertx);
    Async.await(f.server.listen());
    return f;
  }

  String url() {
    return "http://127.0.0.1:" + server.actualPort();
  }

  int port() {
    return server.actualPort();
  }

  @Override
  public void close() throws ExecutionException, TimeoutException {
    Future<Void> closed = server.close();
    try {
      closed.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // the server still closes; we only stop waiting
    }
  }

  // ---- behaviours ----

  static Behaviour json(int status, String body) {
    return (req, b) ->
        req.response()
            .setStatusCode(status)
            .putHeader("Content-Type", "application/json")
            .end(body);
  }

  static Behaviour status(int status) {
    return (req, b) -> req.response().setStatusCode(status).end("upstream says " + status);
  }

  static Behaviour throttled(String retryAfter) {
    return (req, b) -> {
      HttpServerResponse resp = req.response().setStatusCode(429);
      if (retryAfter != null) {
        resp.putHeader("Retry-After", retryAfter);
      }
      resp.end("{\"error\":\"rate limited\"}");
    };
  }

  /** Never answers; the connection stays open until the client gives up. */
  static Behaviour hang() {
    return (req, b) -> {};
  }

  /** Answers with {@code then} after {@code ms}. */
  Behaviour slow(long ms, Behaviour then) {
    return (req, b) -> vertx.setTimer(ms, t -> then.handle(req, b));
  }

  /** Sends the head and a first byte, then nothing more. */
  static Behaviour trickle() {
    return (req, b) -> req.response().setChunked(true).setStatusCode(200).write("{");
  }

  /** Closes the TCP connection without an answer. */
  static Behaviour reset() {
    return (req, b) -> req.connection().close();
  }

  static Behaviour garbage() {
    return json(200, "<html>not json</html>");
  }

  /** A 2xx body of {@code bytes} bytes, declared (Content-Length) or streamed (chunked). */
  static Behaviour oversized(int bytes, boolean chunked) {
    return (req, b) -> {
      HttpServerResponse resp = req.response().setStatusCode(200);
      String filler = "{\"isAllowed\":true,\"pad\":\"" + "x".repeat(bytes) + "\"}";
      if (!chunked) {
        resp.end(filler);
        return;
      }
      resp.setChunked(true);
      for (int i = 0; i < filler.length(); i += 1024) {
        resp.write(filler.substring(i, Math.min(filler.length(), i + 1024)));
      }
      resp.end();
    };
  }

  /** Answers each request with the next behaviour; the last one repeats. */
  static Behaviour sequence(Behaviour... steps) {
    AtomicInteger n = new AtomicInteger();
    return (req, b) -> steps[Math.min(n.getAndIncrement(), steps.length - 1)].handle(req, b);
  }

  static long millisBetween(Recorded a, Recorded b) {
    return TimeUnit.NANOSECONDS.toMillis(b.atNanos() - a.atNanos());
  }

  /** Helpers to wait for Vert.x futures from the test thread (never used on an event loop). */
  static final class Async {
    private Async() {}

    static <T> T await(Future<T> f) throws Exception {
      return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    static Throwable awaitFailure(Future<?> f) throws Exception {
      try {
        f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      } catch (java.util.concurrent.ExecutionException e) {
        return e.getCause();
      }
      throw new AssertionError("expected the future to fail, it succeeded");
    }
  }
}
