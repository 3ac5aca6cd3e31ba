package dev.cvmkms.kms.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Empty;
import dev.cvmkms.kms.KmsException;
import dev.cvmkms.kms.proto.AppId;
import dev.cvmkms.kms.proto.GetMetaResponse;
import dev.cvmkms.kms.proto.PublicKeyResponse;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The edge's signing hook: the signer sees the exact bytes sent (JSON or protobuf), its headers
 * reach 200 responses of the signed methods only, and a failing signer fails the request rather
 * than send it unsigned.
 */
class PrpcSignedResponsesTest {
  private static final GetMetaResponse META =
      GetMetaResponse.newBuilder().setCaCert("ca").setIsDev(true).build();

  private Vertx vertx;
  private HttpServer server;
  private WebClient client;
  private final List<String> signed = new CopyOnWriteArrayList<>();
  private final List<Boolean> signerOnEventLoop = new CopyOnWriteArrayList<>();
  private final AtomicReference<Throwable> signerFailure = new AtomicReference<>();

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    PrpcRoutes routes =
        new PrpcRoutes(
            "KMS.",
            List.of(
                PrpcMethod.of(
                    "GetMeta", Empty.getDefaultInstance(), (c, r) -> Future.succeededFuture(META)),
                PrpcMethod.of(
                    "GetAppEnvEncryptPubKey",
                    AppId.getDefaultInstance(),
                    (c, r) ->
                        r.getAppId().size() == 20
                            ? Future.succeededFuture(
                                PublicKeyResponse.newBuilder().setPublicKey(r.getAppId()).build())
                            : Future.failedFuture(KmsException.invalid("app_id must be 20 bytes"))),
                PrpcMethod.of(
                    "GetAppKey",
                    AppId.getDefaultInstance(),
                    (c, r) -> Future.succeededFuture(PublicKeyResponse.getDefaultInstance()))),
            new PrometheusMeterRegistry(PrometheusConfig.DEFAULT),
            null);
    routes.signResponses(
        Set.of("GetMeta", "GetAppEnvEncryptPubKey"),
        (method, body) -> {
          signerOnEventLoop.add(Context.isOnEventLoopThread());
          if (signerFailure.get() != null) {
            return Future.failedFuture(signerFailure.get());
          }
          String tag = method + ":" + HexFormat.of().formatHex(body);
          signed.add(tag);
          // Complete later, on a worker, as the real signer's cache misses do.
          return vertx.executeBlocking(() -> Map.of("X-Kms-Signature", tag), false);
        });
    Router router = Router.router(vertx);
    routes.mount(router);
    server =
        vertx
            .createHttpServer()
            .requestHandler(router)
            .listen(0, "127.0.0.1")
            .await(10, TimeUnit.SECONDS);
    client = WebClient.create(vertx);
  }

  @AfterEach
  void stop() throws Exception {
    client.close();
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void signerSeesTheExactBytesSent_inBothModes() throws Exception {
    HttpResponse<Buffer> json = get("/prpc/GetMeta");
    assertThat(json.statusCode()).isEqualTo(200);
    assertThat(json.getHeader("X-Kms-Signature"))
        .isEqualTo("GetMeta:" + HexFormat.of().formatHex(json.bodyAsBuffer().getBytes()));

    HttpResponse<Buffer> proto =
        client
            .post(server.actualPort(), "127.0.0.1", "/prpc/KMS.GetMeta")
            .sendBuffer(Buffer.buffer())
            .await(10, TimeUnit.SECONDS);
    assertThat(proto.statusCode()).isEqualTo(200);
    assertThat(proto.bodyAsBuffer().getBytes()).isEqualTo(META.toByteArray());
    assertThat(proto.getHeader("X-Kms-Signature"))
        .isEqualTo("GetMeta:" + HexFormat.of().formatHex(META.toByteArray()));
    assertThat(signerOnEventLoop).containsOnly(true);
  }

  @Test
  void errorsAndUnsignedMethods_carryNoSignature() throws Exception {
    HttpResponse<Buffer> error = get("/prpc/GetAppEnvEncryptPubKey?app_id=00");
    assertThat(error.statusCode()).isEqualTo(400);
    assertThat(error.getHeader("X-Kms-Signature")).isNull();
    HttpResponse<Buffer> unsigned = get("/prpc/GetAppKey");
    assertThat(unsigned.statusCode()).isEqualTo(200);
    assertThat(unsigned.getHeader("X-Kms-Signature")).isNull();
    assertThat(signed).isEmpty();
  }

  @Test
  void aFailingSigner_failsTheRequest_ratherThanSendItUnsigned() throws Exception {
    signerFailure.set(new IllegalStateException("secret detail"));
    HttpResponse<Buffer> r = get("/prpc/GetMeta");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.getHeader("X-Kms-Signature")).isNull();
    assertThat(r.bodyAsString()).doesNotContain("secret detail");
  }

  @Test
  void onlyServedMethodsCanBeSigned() {
    PrpcRoutes routes =
        new PrpcRoutes(
            "KMS.", List.of(), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), null);
    assertThatThrownBy(() -> routes.signResponses(Set.of("GetMeta"), (m, b) -> null))
        .hasMessageContaining("GetMeta");
  }

  private HttpResponse<Buffer> get(String path) throws Exception {
    return client.get(server.actualPort(), "127.0.0.1", path).send().await(10, TimeUnit.SECONDS);
  }
}
