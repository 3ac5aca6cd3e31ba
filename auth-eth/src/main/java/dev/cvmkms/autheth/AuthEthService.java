package dev.cvmkms.autheth;

import dev.cvmkms.autheth.chain.Breakers;
import dev.cvmkms.autheth.chain.KmsContract;
import dev.cvmkms.autheth.chain.OutboundBudget;
import dev.cvmkms.autheth.chain.RpcClient;
import dev.cvmkms.autheth.chain.RpcMetrics;
import dev.cvmkms.autheth.config.AuthEthConfig;
import dev.cvmkms.autheth.config.ShutdownBudgets;
import dev.cvmkms.autheth.http.GlobalLimiter;
import dev.cvmkms.autheth.http.ListenerGuard;
import dev.cvmkms.autheth.http.Routes;
import dev.cvmkms.autheth.ops.PhasedShutdown;
import dev.cvmkms.autheth.policy.DecisionService;
import dev.cvmkms.autheth.policy.MetadataCache;
import dev.cvmkms.autheth.policy.MetadataLoader;
import dev.cvmkms.autheth.policy.Scheduler;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Wires one auth-eth service by hand: shared RPC client, caches, routes and HTTP listeners. */
public final class AuthEthService {
  private static final Logger log = LoggerFactory.getLogger(AuthEthService.class);

  private final Vertx vertx;
  private final RpcClient rpc;
  private final MetadataCache metadata;
  private final PrometheusMeterRegistry registry;
  private final List<HttpServer> servers;
  private final Routes routes;

  private AuthEthService(
      Vertx vertx,
      RpcClient rpc,
      MetadataCache metadata,
      PrometheusMeterRegistry registry,
      List<HttpServer> servers,
      Routes routes) {
    this.routes = routes;
    this.vertx = vertx;
    this.rpc = rpc;
    this.metadata = metadata;
    this.registry = registry;
    this.servers = servers;
  }

  public static Future<AuthEthService> start(Vertx vertx, AuthEthConfig cfg) {
    LongSupplier clock = System::nanoTime;
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    var rs = cfg.rpcSettings();
    CircuitBreaker breaker =
        Breakers.create(
            "eth_rpc", rs.breakerFailures(), rs.breakerReset(), Breakers.clockOf(clock), registry);
    RpcClient rpc =
        new RpcClient(
            vertx,
            cfg.rpc(),
            rs,
            new OutboundBudget(rs.ratePerSecond(), rs.burst(), clock),
            breaker,
            new RpcMetrics(registry, breaker),
            clock,
            () -> ThreadLocalRandom.current().nextDouble());
    KmsContract contract = new KmsContract(rpc, cfg.kmsContractCallAddr());
    Scheduler scheduler =
        new Scheduler() {
          @Override
          public long schedule(long delayMillis, Runnable task) {
            return vertx.setTimer(Math.max(1, delayMillis), id -> task.run());
          }

          @Override
          public void cancel(long id) {
            if (id >= 0) {
              vertx.cancelTimer(id);
            }
          }
        };
    MetadataCache metadata =
        new MetadataCache(
            new MetadataLoader(contract, rs.deadline(), clock),
            scheduler,
            clock,
            cfg.metadataRefresh(),
            cfg.metadataRetry());
    DecisionService decisions =
        new DecisionService(
            contract, metadata, cfg.finality(), cfg.expectedChainId(), rs.deadline(), clock);
    Gauge.builder(
            "autheth_metadata_age_seconds",
            metadata,
            m -> m.current().map(s -> s.ageMillis(clock) / 1000.0).orElse(Double.NaN))
        .description("Age of the cached GET / metadata (NaN until the first load)")
        .register(registry);
    Gauge.builder(
            "autheth_chain_id_mismatch",
            metadata,
            m ->
                m.current()
                    .map(s -> decisions.chainMatches(s.value().chainId()) ? 0.0 : 1.0)
                    .orElse(0.0))
        .description("1 when ETH_CHAIN_ID is set and the provider reports another chain")
        .register(registry);
    Routes routes =
        new Routes(
            metadata,
            decisions,
            registry,
            cfg.kmsContractAddr(),
            cfg.rpc().publicUrl(),
            cfg.maxBodyBytes(),
            clock,
            cfg.httpLimits().rateLimited()
                ? new GlobalLimiter(
                    cfg.httpLimits().ratePerSecond(), cfg.httpLimits().burst(), clock)
                : null);

    metadata
        .start()
        .onSuccess(
            s -> {
              if (!decisions.chainMatches(s.value().chainId())) {
                log.error(
                    "provider chain id {} differs from ETH_CHAIN_ID {}: every bootAuth is denied",
                    s.value().chainId(),
                    cfg.expectedChainId().getAsLong());
              }
            });

    // One guard for all listener instances: the caps are per port, not per event loop.
    ListenerGuard guard =
        new ListenerGuard(
            vertx, "http", cfg.httpLimits(), path -> path.startsWith("/bootAuth/"), registry);
    HttpServerOptions options =
        guard.apply(new HttpServerOptions().setHost(cfg.host()).setPort(cfg.port()));
    // Several listeners on one port spread connections over the event loops. Port 0 (tests) would
    // give each its own random port, so it gets a single listener.
    int instances = cfg.port() == 0 ? 1 : cfg.httpInstances();
    List<Future<HttpServer>> listening = new ArrayList<>();
    for (int i = 0; i < instances; i++) {
      listening.add(
          guard
              .install(vertx.createHttpServer(options))
              .requestHandler(guard.wrap(routes))
              .listen());
    }
    return Future.all(listening)
        .map(
            v -> {
              List<HttpServer> servers = listening.stream().map(Future::result).toList();
              log.info(
                  "auth-eth listening on {}:{} (kms contract {}, rpc {}, {} event loops)",
                  cfg.host(),
                  servers.get(0).actualPort(),
                  cfg.kmsContractAddr(),
                  cfg.rpc().publicUrl(),
                  servers.size());
              return new AuthEthService(vertx, rpc, metadata, registry, servers, routes);
            });
  }

  public int port() {
    return servers.get(0).actualPort();
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  public MetadataCache metadata() {
    return metadata;
  }

  /** Stops accepting, drains in-flight requests for up to {@code graceMillis}, then closes. */
  public Future<Void> stop(long graceMillis) {
    routes.drain();
    metadata.stop();
    return drainListeners(graceMillis).andThen(v -> rpc.close());
  }

  private Future<Void> drainListeners(long budgetMillis) {
    List<Future<Void>> all = new ArrayList<>();
    for (HttpServer s : servers) {
      all.add(s.shutdown(budgetMillis, TimeUnit.MILLISECONDS));
    }
    return Future.join(all).mapEmpty();
  }

  /**
   * The phased shutdown SIGTERM/SIGINT run (see {@link PhasedShutdown}): readiness 503 and
   * Connection: close at once, the pre-drain, the listeners' drain, then the metadata refresher and
   * the RPC client under one background budget, and Vert.x within the cleanup margin.
   */
  public PhasedShutdown phasedShutdown(ShutdownBudgets budgets) {
    return new PhasedShutdown(
        budgets,
        routes::drain,
        budget ->
            drainListeners(budget.toMillis())
                .toCompletionStage()
                .thenCompose(v -> routes.drained()),
        List.of(
            new PhasedShutdown.Task(
                "metadata refresher",
                () -> {
                  metadata.stop();
                  return CompletableFuture.completedFuture(null);
                }),
            new PhasedShutdown.Task(
                "rpc client",
                () -> {
                  rpc.close();
                  return CompletableFuture.completedFuture(null);
                })),
        List.of(new PhasedShutdown.Task("vertx close", () -> vertx.close().toCompletionStage())));
  }

  Vertx vertx() {
    return vertx;
  }
}
