package dev.cvmkms.autheth.cli;

import dev.cvmkms.autheth.AuthEthService;
import dev.cvmkms.autheth.config.AuthEthConfig;
import dev.cvmkms.autheth.config.ConfigException;
import dev.cvmkms.autheth.ops.TerminationSignals;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;

/** Runs the webhook with settings from the environment (see the module README). */
@Command(name = "serve", description = "Serve GET /, POST /bootAuth/app|kms, health and metrics.")
public final class ServeCommand implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(ServeCommand.class);

  @Override
  public Integer call() throws Exception {
    AuthEthConfig cfg;
    try {
      cfg = AuthEthConfig.fromEnv(System.getenv());
    } catch (ConfigException e) {
      log.error("invalid configuration: {}", e.getMessage());
      return 2;
    }
    Vertx vertx =
        Vertx.vertx(new VertxOptions().setEventLoopPoolSize(Math.max(2, cfg.httpInstances())));
    AuthEthService service;
    try {
      service = AuthEthService.start(vertx, cfg).await(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.error("could not start: {}", e.getClass().getSimpleName() + ": " + e.getMessage());
      vertx.close();
      return 1;
    }
    // SIGTERM/SIGINT run the phased shutdown and exit 0 (see TerminationSignals for why not a
    // plain shutdown hook); this thread only keeps the command alive until then.
    TerminationSignals.install("auth-eth-shutdown", service.phasedShutdown(cfg.shutdown())::run);
    new CountDownLatch(1).await();
    return 0;
  }
}
