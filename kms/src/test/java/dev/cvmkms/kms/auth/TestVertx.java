package dev.cvmkms.kms.auth;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.cvmkms.autheth.testing.BlockedThreadWarnings;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.util.concurrent.TimeUnit;
import org.slf4j.LoggerFactory;

/**
 * A Vert.x whose blocked-thread checker is strict (300 ms), with a way to assert it never fired:
 * everything in this package must run on the event loop without blocking. The first HTTP call in a
 * JVM loads and links hundreds of Netty/Vert.x/Jackson classes on the event loop, which on a busy
 * 2-core machine alone can take longer than that, so one warm-up round trip runs first.
 */
final class TestVertx {
  private static boolean warmedUp;

  private static final String CHECKER = "io.vertx.core.impl.BlockedThreadChecker";

  final Vertx vertx;
  private final ListAppender<ILoggingEvent> blocked = new ListAppender<>();

  TestVertx() throws Exception {
    warmUp();
    blocked.start();
    ((Logger) LoggerFactory.getLogger(CHECKER)).addAppender(blocked);
    vertx =
        Vertx.vertx(
            new VertxOptions()
                .setBlockedThreadCheckInterval(50)
                .setBlockedThreadCheckIntervalUnit(TimeUnit.MILLISECONDS)
                .setMaxEventLoopExecuteTime(300)
                .setMaxEventLoopExecuteTimeUnit(TimeUnit.MILLISECONDS)
                .setWarningExceptionTime(300)
                .setWarningExceptionTimeUnit(TimeUnit.MILLISECONDS));
  }

  private static synchronized void warmUp() throws Exception {
    if (warmedUp) {
      return;
    }
    Vertx v = Vertx.vertx();
    try (FakeWebhook fake = FakeWebhook.start(v)) {
      WebhookClient c =
          new WebhookClient(
              v,
              Fixtures.settings(fake.url(), 5_000, 5_000, 5_000, 100, 300),
              new io.micrometer.core.instrument.simple.SimpleMeterRegistry(),
              "warm-up");
      FakeWebhook.Async.await(c.info());
      FakeWebhook.Async.await(c.bootAuth(WebhookClient.Operation.APP, Fixtures.boot()));
      fake.app = FakeWebhook.status(500);
      FakeWebhook.Async.awaitFailure(c.bootAuth(WebhookClient.Operation.APP, Fixtures.boot()));
      FakeWebhook.Async.await(c.close());
    } finally {
      FakeWebhook.Async.await(v.close());
    }
    warmedUp = true;
  }

  /** Closes Vert.x and fails if any event loop was reported blocked meanwhile. */
  void closeAndAssertNeverBlocked() throws Exception {
    FakeWebhook.Async.await(vertx.close());
    ((Logger) LoggerFactory.getLogger(CHECKER)).detachAppender(blocked);
    // Counted by cause: bounded work waiting for a CPU on a starved machine is not a blocking call.
    assertThat(blocked.list)
        .filteredOn(e -> !BlockedThreadWarnings.isSchedulingDelay(e))
        .as("blocked event loop warnings")
        .extracting(TestVertx::describe)
        .isEmpty();
  }

  private static String describe(ILoggingEvent e) {
    StringBuilder sb = new StringBuilder(e.getFormattedMessage());
    if (e.getThrowableProxy() != null) {
      for (var frame : e.getThrowableProxy().getStackTraceElementProxyArray()) {
        sb.append("\n    ").append(frame.getSTEAsString());
      }
    }
    return sb.toString();
  }
}
