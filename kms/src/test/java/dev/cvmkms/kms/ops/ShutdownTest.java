package dev.cvmkms.kms.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cvmkms.kms.config.ShutdownConfig;
import dev.cvmkms.kms.keys.KeyBootstrap;
import dev.cvmkms.kms.keys.RootKeys;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.KeyStore;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The phased shutdown loses nothing: readiness first, in-flight requests finish, new connections
 * are refused, background work shares one budget, and the final line names what overran. No test
 * here waits for time to pass: each awaits the condition it needs.
 */
class ShutdownTest {
  private static final RootKeys KEYS = keys();

  private Vertx vertx;
  private Router router;
  private HttpsListener listener;
  private Readiness readiness;
  private HttpClient http;

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    router = Router.router(vertx);
    readiness = new Readiness();
    OpsRoutes.mount(
        router, readiness, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), false);
    router.get("/fast").handler(ctx -> ctx.response().end("fast"));
  }

  @AfterEach
  void stop() throws Exception {
    if (http != null) http.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private void listen() throws Exception {
    listener =
        HttpsListener.start(
                vertx,
                "127.0.0.1",
                0,
                new TlsIdentity(KEYS.secretRpcKeyPem(), KEYS.rpcCertPem(), KEYS.tmpCaCertPem()),
                false,
                router)
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    readiness.keysLoaded();
    readiness.accepting();
    http = client();
  }

  private PhasedShutdown shutdown(
      ShutdownConfig budgets,
      PhasedShutdown.Sleeper sleeper,
      List<PhasedShutdown.Task> background) {
    return new PhasedShutdown(
        budgets,
        () -> {
          readiness.draining();
          listener.closeConnectionsAfterResponses();
        },
        budget -> listener.drain(budget).toCompletionStage(),
        background,
        List.of(),
        sleeper,
        System::nanoTime);
  }

  @Test
  void inFlightRequestFinishes_newConnectionsAreRefused_andTheLineSaysComplete() throws Exception {
    CountDownLatch entered = new CountDownLatch(1);
    AtomicReference<Promise<String>> hold = new AtomicReference<>();
    router
        .get("/slow")
        .handler(
            ctx -> {
              Promise<String> p = Promise.promise();
              hold.set(p);
              p.future().onSuccess(body -> ctx.response().end(body));
              entered.countDown();
            });
    listen();
    CompletableFuture<HttpResponse<String>> inFlight =
        http.sendAsync(get("/slow"), HttpResponse.BodyHandlers.ofString());
    assertThat(entered.await(30, TimeUnit.SECONDS)).isTrue();

    ShutdownConfig budgets =
        new ShutdownConfig(
            Duration.ZERO, Duration.ofMinutes(5), Duration.ofSeconds(5), Duration.ofMinutes(6));
    CompletableFuture<PhasedShutdown.Outcome> outcome =
        CompletableFuture.supplyAsync(() -> shutdown(budgets, d -> {}, List.of()).run());

    awaitRefused();
    assertThat(outcome).isNotDone(); // still waiting for the in-flight request
    vertx.runOnContext(v -> hold.get().complete("done"));

    HttpResponse<String> r = inFlight.get(30, TimeUnit.SECONDS);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("done");
    assertThat(r.headers().firstValue("connection")).hasValue("close");
    PhasedShutdown.Outcome o = outcome.get(60, TimeUnit.SECONDS);
    assertThat(o.clean()).as(o.finalLine()).isTrue();
    assertThat(o.finalLine()).isEqualTo("shutdown complete");
    assertThat(readiness.reason()).isEqualTo("shutting down");
  }

  @Test
  void duringPreDrain_readinessIs503_livenessIs200_andRequestsAreStillServed() throws Exception {
    listen();
    CountDownLatch inPreDrain = new CountDownLatch(1);
    CountDownLatch endPreDrain = new CountDownLatch(1);
    ShutdownConfig budgets =
        new ShutdownConfig(
            Duration.ofSeconds(5),
            Duration.ofSeconds(5),
            Duration.ofSeconds(5),
            Duration.ofSeconds(20));
    CompletableFuture<PhasedShutdown.Outcome> outcome =
        CompletableFuture.supplyAsync(
            () ->
                shutdown(
                        budgets,
                        d -> {
                          assertThat(d).isEqualTo(Duration.ofSeconds(5));
                          inPreDrain.countDown();
                          endPreDrain.await();
                        },
                        List.of())
                    .run());
    assertThat(inPreDrain.await(30, TimeUnit.SECONDS)).isTrue();

    HttpResponse<String> ready =
        http.send(get("/healthz/ready"), HttpResponse.BodyHandlers.ofString());
    assertThat(ready.statusCode()).isEqualTo(503);
    assertThat(ready.body()).isEqualTo("shutting down");
    assertThat(http.send(get("/healthz/live"), HttpResponse.BodyHandlers.ofString()).statusCode())
        .isEqualTo(200);
    HttpResponse<String> fast = http.send(get("/fast"), HttpResponse.BodyHandlers.ofString());
    assertThat(fast.body()).isEqualTo("fast");
    assertThat(fast.headers().firstValue("connection")).hasValue("close");

    endPreDrain.countDown();
    assertThat(outcome.get(60, TimeUnit.SECONDS).clean()).isTrue();
    awaitRefused();
  }

  @Test
  void phasesRunInOrder_readinessBeforeAnythingElse() {
    List<String> events = new CopyOnWriteArrayList<>();
    ShutdownConfig budgets =
        new ShutdownConfig(
            Duration.ofSeconds(3),
            Duration.ofSeconds(4),
            Duration.ofSeconds(5),
            Duration.ofSeconds(20));
    PhasedShutdown.Outcome o =
        new PhasedShutdown(
                budgets,
                () -> events.add("not ready"),
                budget -> {
                  events.add("http drain " + budget.toSeconds() + "s");
                  return CompletableFuture.completedFuture(null);
                },
                List.of(task("audit log flush", events), task("webhook client", events)),
                List.of(task("vertx close", events)),
                d -> events.add("pre-drain " + d.toSeconds() + "s"),
                System::nanoTime)
            .run();
    assertThat(events)
        .containsExactly(
            "not ready",
            "pre-drain 3s",
            "http drain 4s",
            "audit log flush",
            "webhook client",
            "vertx close");
    assertThat(o.clean()).isTrue();
  }

  @Test
  void backgroundWorkSharesOneBudget_andEveryOverrunIsNamed() {
    List<String> events = new CopyOnWriteArrayList<>();
    ShutdownConfig budgets =
        new ShutdownConfig(
            Duration.ZERO, Duration.ZERO, Duration.ofMillis(200), Duration.ofSeconds(3));
    PhasedShutdown.Outcome o =
        new PhasedShutdown(
                budgets,
                () -> {},
                budget -> CompletableFuture.completedFuture(null),
                List.of(
                    hung("cache refresher", events),
                    task("audit log flush", events),
                    hung("webhook client", events)),
                List.of(
                    new PhasedShutdown.Task(
                        "vertx close",
                        () -> CompletableFuture.failedFuture(new IllegalStateException("boom")))),
                d -> {},
                System::nanoTime)
            .run();
    // All three were started before any was waited for: one shared deadline, not one per task.
    assertThat(events).containsExactly("cache refresher", "audit log flush", "webhook client");
    assertThat(o.warnings())
        .containsExactly(
            "cache refresher overran its budget of 200ms",
            "webhook client overran its budget of 200ms",
            "vertx close: boom");
    assertThat(o.finalLine())
        .isEqualTo(
            "shutdown complete with warning: cache refresher overran its budget of 200ms;"
                + " webhook client overran its budget of 200ms; vertx close: boom");
  }

  @Test
  void requestsStillInFlightWhenTheHttpBudgetEnds_areClosedAndReported() throws Exception {
    CountDownLatch entered = new CountDownLatch(1);
    router.get("/never").handler(ctx -> entered.countDown());
    listen();
    CompletableFuture<HttpResponse<String>> inFlight =
        http.sendAsync(get("/never"), HttpResponse.BodyHandlers.ofString());
    assertThat(entered.await(30, TimeUnit.SECONDS)).isTrue();

    ShutdownConfig budgets =
        new ShutdownConfig(Duration.ZERO, Duration.ZERO, Duration.ZERO, Duration.ofSeconds(2));
    PhasedShutdown.Outcome o = shutdown(budgets, d -> {}, List.of()).run();

    assertThat(o.warnings())
        .containsExactly("http drain: 1 in-flight requests were cut when the budget ran out");
    assertThatThrownBy(() -> inFlight.get(30, TimeUnit.SECONDS))
        .hasCauseInstanceOf(java.io.IOException.class);
  }

  private static PhasedShutdown.Task task(String name, List<String> events) {
    return new PhasedShutdown.Task(
        name,
        () -> {
          events.add(name);
          return CompletableFuture.completedFuture(null);
        });
  }

  private static PhasedShutdown.Task hung(String name, List<String> events) {
    return new PhasedShutdown.Task(
        name,
        () -> {
          events.add(name);
          return new CompletableFuture<>();
        });
  }

  /** Awaits (bounded) the listener refusing new connections. */
  private void awaitRefused() throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < end) {
      try (HttpClient fresh = client()) {
        fresh.send(get("/fast"), HttpResponse.BodyHandlers.ofString());
      } catch (java.io.IOException refused) {
        return;
      }
      Thread.onSpinWait();
    }
    throw new AssertionError("the listener still accepts new connections");
  }

  private HttpRequest get(String path) {
    return HttpRequest.newBuilder(URI.create("https://localhost:" + listener.port() + path))
        .timeout(Duration.ofSeconds(30))
        .build();
  }

  private static RootKeys keys() {
    try {
      return new KeyBootstrap(Clock.systemUTC()).generate("localhost", Optional.empty());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static HttpClient client() throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("root", KEYS.rootCaCertificate());
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    return HttpClient.newBuilder().sslContext(ctx).version(HttpClient.Version.HTTP_1_1).build();
  }
}
