package dev.cvmkms.kms.ops;

import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
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
        .addShutdownHook(
            new Thread(
                () -> {
                  CountDownLatch done = new CountDownLatch(1);
                  LOG.info(
                      "shutting down: draining in-flight requests (grace {} ms)", grace.toMillis());
                  readiness.draining();
                  listener.drain(grace).eventually(vertx::close).onComplete(ar -> done.countDown());
                  try {
                    if (!done.await(grace.toMillis() + 5_000, TimeUnit.MILLISECONDS)) {
                      LOG.warn("shutdown did not finish in time");
                    }
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                  LOG.info("stopped");
                },
                "kms-shutdown"));
  }
}
