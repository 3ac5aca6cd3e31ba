package dev.cvmkms.kms.upstream;

import dev.cvmkms.kms.attestation.AttestationException;
import dev.cvmkms.kms.attestation.AttestationException.Reason;
import dev.cvmkms.kms.attestation.dcap.Collateral;
import dev.cvmkms.kms.attestation.dcap.CollateralCache;
import dev.cvmkms.kms.attestation.dcap.CollateralSource;
import dev.cvmkms.kms.attestation.dcap.PccsProtocol;
import dev.cvmkms.kms.config.PccsConfig;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.DoubleSupplier;
import org.jspecify.annotations.Nullable;

/**
 * The one PCCS (or Intel PCS) client of the process: the four collateral GETs of a key run in
 * parallel through the {@code pccs} {@link Upstream} (deadline, retries of these idempotent reads,
 * breaker, {@code kms.upstream.*} meters) over {@link JdkHttp}. Every answer is checked where it
 * arrives, so garbage counts against the PCCS like a 5xx. Wrap it in {@link #cached}.
 */
public final class PccsClient implements CollateralSource, AutoCloseable {
  public static final String UPSTREAM = "pccs";

  private final PccsProtocol protocol;
  private final Upstream upstream;
  private final JdkHttp http;
  private final String userAgent;

  public PccsClient(
      URI baseUrl,
      PccsConfig config,
      MeterRegistry registry,
      Clock clock,
      DoubleSupplier random,
      Timers timers,
      String version) {
    this.protocol = new PccsProtocol(baseUrl);
    this.upstream = new Upstream(UPSTREAM, config.client(), registry, clock, random, timers);
    this.http = new JdkHttp(UPSTREAM, config.client(), timers, clock);
    this.userAgent = "cvm-kms/" + version;
  }

  /**
   * The production stack: this client behind a bounded {@link CollateralCache}, whose size is the
   * gauge {@code kms.collateral.cache.size}.
   */
  public static CollateralCache cached(
      URI baseUrl, PccsConfig config, MeterRegistry registry, Clock clock, String version) {
    PccsClient client =
        new PccsClient(
            baseUrl,
            config,
            registry,
            clock,
            () -> java.util.concurrent.ThreadLocalRandom.current().nextDouble(),
            Timers.daemon("kms-pccs-timer"),
            version);
    CollateralCache cache =
        new CollateralCache(
            client, clock, config.cacheSize(), config.refreshAfter(), config.failureBackoff());
    Gauge.builder("kms.collateral.cache.size", cache, CollateralCache::size)
        .description("Collateral bundles cached (one per FMSPC and PCK CA)")
        .strongReference(true)
        .register(registry);
    return cache;
  }

  public Upstream upstream() {
    return upstream;
  }

  @Override
  public CompletionStage<Collateral> fetch(Key key) {
    List<PccsProtocol.Request> requests = protocol.requests(key);
    List<CompletableFuture<JdkHttp.Response>> answers = new ArrayList<>();
    for (int i = 0; i < requests.size(); i++) {
      answers.add(get(requests.get(i), i));
    }
    return CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new))
        .handle(
            (v, e) -> {
              if (e != null) {
                throw unavailable(e);
              }
              return protocol.assemble(answers.stream().map(f -> answer(f.join())).toList());
            });
  }

  private CompletableFuture<JdkHttp.Response> get(PccsProtocol.Request r, int index) {
    String what = "GET " + r.path();
    return upstream.call(
        what,
        true,
        timeout ->
            http.send(
                    HttpRequest.newBuilder(r.url()).GET().header("User-Agent", userAgent),
                    what,
                    timeout)
                .thenApply(
                    resp -> {
                      http.requireOk(resp, what);
                      try {
                        protocol.check(index, answer(resp));
                      } catch (AttestationException e) {
                        // The message is "<reason>: <detail>"; the detail is what goes on.
                        String message = Objects.requireNonNullElse(e.getMessage(), "");
                        throw new UpstreamException(
                            Outcome.ERROR, message.replaceFirst("^" + e.reason() + ": ", ""));
                      }
                      return resp;
                    }));
  }

  private static PccsProtocol.Answer answer(JdkHttp.Response r) {
    return new PccsProtocol.Answer() {
      @Override
      public @Nullable String header(String name) {
        return r.header(name);
      }

      @Override
      public byte[] body() {
        return r.body();
      }
    };
  }

  private static AttestationException unavailable(Throwable e) {
    Throwable t = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    if (t instanceof AttestationException a) {
      return a;
    }
    String msg = t instanceof UpstreamException u ? u.getMessage() : "pccs fetch failed";
    return new AttestationException(Reason.COLLATERAL_UNAVAILABLE, msg);
  }

  @Override
  public void close() {
    http.close();
  }
}
