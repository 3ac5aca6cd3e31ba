package dev.cvmkms.kms.ops;

import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The phased shutdown, in the order that loses nothing: report not-ready, stop accepting and drain
 * in-flight requests (bounded by the grace period), and only then close Vert.x (clients, workers).
 */
public final class Shutdown {
  private static final Logger LOG = LoggerFactory.getLogger(Shutdown.class);

  private Shutdown() {}

  /** Registers a JVM shutdown hook (SIGTERM/SIGINT) that runs the phases and waits for them. */
  public static void onSignal(
      Vertx vertx, Readiness readiness, HttpsListener listener, Duration grace) {
    Runtime.getRuntime()
        .addShutdownHook(new Thread(() -> run(vertx, readiness, listener, grace), "kms-shutdown"));
  }

  /**
   * Runs the phases from a non-Vert.x thread and blocks until they end. Waiting here (not in a
   * callback on an event loop) matters: once Vert.x is closed its event loops are gone, so a
   * completion scheduled on one of them would never run.
   */
  static void run(Vertx vertx, Readiness readiness, HttpsListener listener, Duration grace) {
    long t0 = System.nanoTime();
    LOG.info("shutting down: draining in-flight requests (grace {} ms)", grace.toMillis());
    readiness.draining();
    try {
      listener
          .drain(grace)
          .toCompletionStage()
          .toCompletableFuture()
          .get(grace.toMillis() + 2_000, TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      LOG.warn("drain ended with {}", e.toString());
    }
    try {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.warn("closing Vert.x ended with {}", e.toString());
    }
    LOG.info("stopped in {} ms", (System.nanoTime() - t0) / 1_000_000);
  }
}
