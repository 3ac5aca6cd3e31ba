package dev.cvmkms.kms.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Single-flight semantics, pinned identically in auth-eth's SingleFlightTest. */
class SingleFlightTest {
  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() throws Exception {
    vertx.close().await(5, TimeUnit.SECONDS);
  }

  @Test
  void concurrentCallsShareOneExecution_andNothingIsKeptAfterwards() {
    SingleFlight<String, String> sf = new SingleFlight<>();
    AtomicInteger runs = new AtomicInteger();
    Promise<String> upstream = Promise.promise();
    Future<String> a =
        sf.run(
            "k",
            () -> {
              runs.incrementAndGet();
              return upstream.future();
            });
    Future<String> b =
        sf.run(
            "k",
            () -> {
              runs.incrementAndGet();
              return Future.succeededFuture("other");
            });
    assertThat(sf.inFlightCount()).isEqualTo(1);
    upstream.fail("denied");
    assertThat(a.failed()).isTrue();
    assertThat(b.failed()).isTrue();
    assertThat(runs).hasValue(1);
    assertThat(sf.sharedCount()).isEqualTo(1);
    assertThat(sf.inFlightCount()).isZero();

    // A denial or error is never reused: the next call runs again.
    Future<String> c =
        sf.run(
            "k",
            () -> {
              runs.incrementAndGet();
              return Future.succeededFuture("fresh");
            });
    assertThat(c.result()).isEqualTo("fresh");
    assertThat(runs).hasValue(2);
  }

  @Test
  void aThrowingCall_failsItsCallers_andFreesTheKey() {
    SingleFlight<String, String> sf = new SingleFlight<>();
    Future<String> f =
        sf.run(
            "k",
            () -> {
              throw new IllegalStateException("boom");
            });
    assertThat(f.cause()).hasMessage("boom");
    assertThat(sf.inFlightCount()).isZero();
  }

  @Test
  void aJoinerOnAnotherContext_getsItsResultOnItsOwnContext() throws Exception {
    SingleFlight<String, String> sf = new SingleFlight<>();
    Promise<String> upstream = Promise.promise();
    Context leaderCtx = vertx.getOrCreateContext();
    Context joinerCtx = vertx.getOrCreateContext();
    CompletableFuture<Boolean> onOwnContext = new CompletableFuture<>();
    CompletableFuture<Void> joined = new CompletableFuture<>();
    leaderCtx.runOnContext(v -> sf.run("k", upstream::future));
    joinerCtx.runOnContext(
        v -> {
          sf.run("k", () -> Future.succeededFuture("not run"))
              .onComplete(ar -> onOwnContext.complete(Vertx.currentContext() == joinerCtx));
          joined.complete(null);
        });
    joined.get(5, TimeUnit.SECONDS);
    leaderCtx.runOnContext(v -> upstream.complete("shared"));
    assertThat(onOwnContext.get(5, TimeUnit.SECONDS)).isTrue();
  }
}
