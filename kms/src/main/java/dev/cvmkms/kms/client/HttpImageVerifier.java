package dev.cvmkms.kms.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cvmkms.kms.KmsException;
import dev.cvmkms.kms.attestation.BootInfo;
import dev.cvmkms.kms.attestation.VerifiedAttestation;
import dev.cvmkms.kms.attestation.ratls.VersionedAttestation;
import dev.cvmkms.kms.config.OutboundClientConfig;
import dev.cvmkms.kms.rpc.CryptoPool;
import dev.cvmkms.kms.upstream.Outcome;
import dev.cvmkms.kms.upstream.Upstream;
import dev.cvmkms.kms.upstream.UpstreamException;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import java.io.IOException;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;

/**
 * OS image verification delegated to a dstack-verifier ({@code POST <url>/verify}, which runs
 * dstack's own {@code verify_os_image_hash}, legacy and lite modes). One shared HTTP client per
 * process behind the {@code image_verifier} {@link Upstream} (deadline, breaker, {@code
 * kms.upstream.*} meters; no retries by default: a verification may download an image); any failure
 * to get a clear positive answer refuses the caller.
 *
 * <p>What is checked: the verifier gets the caller's attestation with its {@code config} replaced
 * by the vm_config this KMS judged (the request's, else the embedded one), so it verifies the image
 * whose hash goes to the auth policy. Accepted only if {@code is_valid} and {@code
 * details.os_image_hash_verified} are true, {@code details.report_data} is this attestation's
 * report data and {@code details.boot_info.osImageHash} equals the BootInfo's hash.
 */
public final class HttpImageVerifier implements ImageVerifier {
  public static final String UPSTREAM = "image_verifier";

  /** The defaults of {@code [core.image.verifier]} for a bare timeout. */
  private record ImageConfigDefaults(Duration timeout) {
    OutboundClientConfig client() {
      Duration connect =
          timeout.compareTo(Duration.ofSeconds(5)) < 0 ? timeout : Duration.ofSeconds(5);
      return new OutboundClientConfig(
          dev.cvmkms.kms.config.ImageConfig.VERIFIER_TABLE,
          connect,
          timeout,
          timeout,
          8,
          MAX_RESPONSE_BYTES,
          0,
          5,
          Duration.ofSeconds(30));
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HexFormat HEX = HexFormat.of();
  static final int MAX_RESPONSE_BYTES = 1 << 20;

  private final Vertx vertx;
  private final HttpClientAgent http;
  private final URI verifyUrl;
  private final CryptoPool crypto;
  private final Upstream upstream;
  private final int maxResponseBytes;

  /**
   * @param baseUrl the verifier's base URL; {@code /verify} is appended
   * @param timeout bound on one whole call, connection to last byte
   */
  public HttpImageVerifier(Vertx vertx, CryptoPool crypto, URI baseUrl, Duration timeout) {
    this(
        vertx,
        crypto,
        baseUrl,
        new ImageConfigDefaults(timeout).client(),
        new io.micrometer.core.instrument.simple.SimpleMeterRegistry(),
        Clock.systemUTC());
  }

  /** With the {@code [core.image.verifier]} client settings, its meters on {@code registry}. */
  public HttpImageVerifier(
      Vertx vertx,
      CryptoPool crypto,
      URI baseUrl,
      OutboundClientConfig client,
      MeterRegistry registry,
      Clock clock) {
    this.vertx = Objects.requireNonNull(vertx, "vertx");
    this.crypto = Objects.requireNonNull(crypto, "crypto");
    String base = baseUrl.toString();
    this.verifyUrl = URI.create((base.endsWith("/") ? base : base + "/") + "verify");
    this.maxResponseBytes = (int) Math.min(MAX_RESPONSE_BYTES, client.maxResponseBytes());
    this.upstream =
        new Upstream(
            UPSTREAM,
            client,
            registry,
            clock,
            () -> ThreadLocalRandom.current().nextDouble(),
            (delay, task) -> vertx.setTimer(Math.max(1, delay), t -> task.run()));
    long timeoutMs = client.attemptTimeout().toMillis();
    boolean tls = "https".equalsIgnoreCase(verifyUrl.getScheme());
    this.http =
        vertx
            .httpClientBuilder()
            .with(
                new HttpClientOptions()
                    .setSsl(tls)
                    .setConnectTimeout((int) Math.min(timeoutMs, 5_000))
                    .setIdleTimeout(60))
            .with(new PoolOptions().setHttp1MaxSize(8))
            .build();
  }

  @Override
  public Future<Void> verify(VerifiedAttestation attestation, String vmConfig, BootInfo boot) {
    // Re-encoding and hex-encoding ~10 KB is CPU work: keep it off the event loop.
    return crypto
        .run(() -> requestBody(attestation.attestation(), vmConfig))
        .compose(this::post)
        .compose(body -> judge(body, attestation.attestation(), boot));
  }

  static Buffer requestBody(VersionedAttestation att, String vmConfig) throws IOException {
    String effective = vmConfig == null || vmConfig.isEmpty() ? att.config() : vmConfig;
    VersionedAttestation judged =
        new VersionedAttestation(
            att.wireVersion(),
            att.quote(),
            att.eventLog(),
            att.runtimeEvents(),
            att.reportData(),
            effective == null ? "" : effective);
    return Buffer.buffer(
        JSON.writeValueAsBytes(Map.of("attestation", HEX.formatHex(judged.encode()))));
  }

  private Future<Buffer> post(Buffer body) {
    Context ctx = vertx.getOrCreateContext();
    return Future.fromCompletionStage(
            upstream.call("POST /verify", false, timeout -> attempt(body, timeout)), ctx)
        .recover(
            e ->
                Future.failedFuture(
                    unavailable(
                        e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage())));
  }

  /** One exchange, failed with an {@link UpstreamException} naming its outcome. */
  private CompletableFuture<Buffer> attempt(Buffer body, long timeoutMs) {
    Promise<Buffer> result = Promise.promise();
    long timer =
        vertx.setTimer(
            timeoutMs,
            t ->
                result.tryFail(
                    new UpstreamException(
                        Outcome.TIMEOUT, "no answer within " + timeoutMs + " ms")));
    RequestOptions options =
        new RequestOptions()
            .setMethod(HttpMethod.POST)
            .setAbsoluteURI(verifyUrl.toString())
            .putHeader(HttpHeaders.CONTENT_TYPE, "application/json");
    http.request(options)
        .compose(
            (HttpClientRequest req) -> {
              result.future().onFailure(e -> req.reset());
              return req.send(body);
            })
        .onSuccess(
            resp -> {
              Buffer acc = Buffer.buffer();
              resp.handler(
                  chunk -> {
                    if (acc.length() + chunk.length() > maxResponseBytes) {
                      result.tryFail(
                          new UpstreamException(
                              Outcome.ERROR, "response larger than " + maxResponseBytes));
                    } else {
                      acc.appendBuffer(chunk);
                    }
                  });
              resp.exceptionHandler(e -> result.tryFail(transport(e)));
              resp.endHandler(
                  v -> {
                    if (resp.statusCode() != 200) {
                      result.tryFail(
                          new UpstreamException(
                              Outcome.ofStatus(resp.statusCode()), "HTTP " + resp.statusCode()));
                    } else {
                      result.tryComplete(acc);
                    }
                  });
            })
        .onFailure(e -> result.tryFail(transport(e)));
    return result
        .future()
        .onComplete(ar -> vertx.cancelTimer(timer))
        .toCompletionStage()
        .toCompletableFuture();
  }

  /** Only the exception type: transport messages can carry the URL. */
  private static UpstreamException transport(Throwable e) {
    if (e instanceof UpstreamException u) {
      return u;
    }
    String type = e.getClass().getSimpleName();
    return new UpstreamException(
        type.contains("Timeout") ? Outcome.TIMEOUT : Outcome.ERROR, "request failed: " + type);
  }

  /** The verifier's meters and breaker (for tests and diagnostics). */
  Upstream upstream() {
    return upstream;
  }

  static Future<Void> judge(Buffer body, VersionedAttestation att, BootInfo boot) {
    JsonNode n;
    try {
      n = JSON.readTree(body.getBytes());
    } catch (IOException e) {
      return Future.failedFuture(unavailable("response is not JSON"));
    }
    if (n == null || !n.path("is_valid").isBoolean()) {
      return Future.failedFuture(unavailable("response has no is_valid"));
    }
    JsonNode d = n.path("details");
    if (!n.get("is_valid").asBoolean() || !d.path("os_image_hash_verified").asBoolean(false)) {
      String reason = n.path("reason").asText("image not verified");
      return Future.failedFuture(denied(reason));
    }
    if (!HEX.formatHex(att.reportData()).equals(d.path("report_data").asText(""))) {
      return Future.failedFuture(denied("verifier judged another attestation"));
    }
    String hash = d.path("boot_info").path("osImageHash").asText(null);
    if (hash == null || !hash.equalsIgnoreCase(boot.osImageHash())) {
      return Future.failedFuture(denied("verifier verified another os image hash"));
    }
    return Future.succeededFuture();
  }

  private static KmsException unavailable(String why) {
    return new KmsException(
        KmsException.Kind.UPSTREAM_UNAVAILABLE, FAILURE_PREFIX + "image verifier: " + why);
  }

  private static KmsException denied(String why) {
    return new KmsException(KmsException.Kind.DENIED, FAILURE_PREFIX + why);
  }

  public Future<Void> close() {
    return http.close();
  }

  @Override
  public String toString() {
    return "HttpImageVerifier[" + verifyUrl + "]";
  }
}
