package dev.cvmkms.kms.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.Empty;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.cvmkms.kms.KmsException;
import dev.cvmkms.kms.proto.AppId;
import dev.cvmkms.kms.proto.AppKeyResponse;
import dev.cvmkms.kms.proto.GetAppKeyRequest;
import dev.cvmkms.kms.proto.GetMetaResponse;
import dev.cvmkms.kms.proto.ProtoError;
import dev.cvmkms.kms.proto.PublicKeyResponse;
import dev.cvmkms.kms.proto.SignCertRequest;
import dev.cvmkms.kms.proto.SignCertResponse;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The pRPC edge over a real HTTP server on 127.0.0.1, called with WebClient / HttpClient. */
class PrpcRoutesTest {
  private static final String APP_ID_HEX = "11".repeat(20);
  private static final GetMetaResponse META =
      GetMetaResponse.newBuilder()
          .setCaCert("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
          .setK256Pubkey(ByteString.fromHex("03" + "ab".repeat(32)))
          .setIsDev(true)
          .setAllowAnyUpgrade(true)
          .setGatewayAppId("any")
          .build();
  private static final String META_JSON = PrpcJson.encodeToString(META);
  private static final int SIGN_CERT_LIMIT = 64;

  private static Vertx vertx;

  private final List<Caller> callers = new CopyOnWriteArrayList<>();
  private final List<Boolean> onEventLoop = new CopyOnWriteArrayList<>();
  private PrometheusMeterRegistry registry;
  private HttpServer server;
  private WebClient client;
  private HttpClient http;
  private int port;

  @BeforeAll
  static void startVertx() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stopVertx() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @BeforeEach
  void startServer() throws Exception {
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    PrpcRoutes routes = new PrpcRoutes("KMS.", methods(), registry, "0.1.0-test");
    Router router = Router.router(vertx);
    routes.mount(router);
    server =
        vertx
            .createHttpServer()
            .requestHandler(router)
            .listen(0, "127.0.0.1")
            .await(10, TimeUnit.SECONDS);
    port = server.actualPort();
    client = WebClient.create(vertx);
    http = vertx.createHttpClient();
  }

  @AfterEach
  void stopServer() throws Exception {
    client.close();
    http.close().await(10, TimeUnit.SECONDS);
    server.close().await(10, TimeUnit.SECONDS);
  }

  private List<PrpcMethod<?, ?>> methods() {
    return List.of(
        PrpcMethod.of(
            "GetMeta",
            Empty.getDefaultInstance(),
            (caller, request) -> {
              callers.add(caller);
              onEventLoop.add(Context.isOnEventLoopThread());
              return Future.succeededFuture(META);
            }),
        PrpcMethod.of(
            "GetAppEnvEncryptPubKey",
            AppId.getDefaultInstance(),
            (caller, request) ->
                request.getAppId().size() != 20
                    ? Future.failedFuture(KmsException.invalid("app_id must be 20 bytes"))
                    : Future.succeededFuture(
                        PublicKeyResponse.newBuilder()
                            .setPublicKey(request.getAppId())
                            .setTimestamp(1700000000L)
                            .build())),
        PrpcMethod.of(
            "GetAppKey",
            GetAppKeyRequest.getDefaultInstance(),
            (caller, request) ->
                switch (request.getVmConfig()) {
                  case "throw" -> throw new IllegalStateException("secret detail 0xdeadbeef");
                  case "deny" ->
                      Future.failedFuture(
                          new KmsException(KmsException.Kind.DENIED, "App not allowed"));
                  case "internal" ->
                      Future.failedFuture(
                          new KmsException(KmsException.Kind.INTERNAL, "key file /x unreadable"));
                  case "null" -> null;
                  case "worker" ->
                      vertx.executeBlocking(
                          () -> AppKeyResponse.newBuilder().setCaCert("from-worker").build(),
                          false);
                  default ->
                      Future.succeededFuture(
                          AppKeyResponse.newBuilder()
                              .setCaCert("ca")
                              .setDiskCryptKey(ByteString.fromHex("00ff"))
                              .setGatewayAppId(request.getVmConfig())
                              .build());
                }),
        PrpcMethod.of(
            "Finish",
            Empty.getDefaultInstance(),
            (caller, request) -> Future.succeededFuture(Empty.getDefaultInstance())),
        new PrpcMethod<>(
            "SignCert",
            SignCertRequest.getDefaultInstance(),
            (caller, request) ->
                Future.succeededFuture(
                    SignCertResponse.newBuilder()
                        .addCertificateChain(request.getVmConfig())
                        .build()),
            SIGN_CERT_LIMIT));
  }

  // ---- method names ----

  @ParameterizedTest
  @ValueSource(strings = {"GetMeta", "KMS.GetMeta", "KMS.KMS.GetMeta"})
  void bareAndPrefixedNamesAreTheSameMethod(String name) throws Exception {
    HttpResponse<Buffer> response = get("/prpc/" + name);
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.getHeader("Content-Type")).isEqualTo("application/json");
    assertThat(response.bodyAsString()).isEqualTo(META_JSON);
    assertThat(response.getHeader("X-App-Version")).isEqualTo("v0.1.0-test");
  }

  @Test
  void unknownMethodIsServiceNotFound() throws Exception {
    HttpResponse<Buffer> json = post("/prpc/Onboard.Bootstrap?json", "{}", null);
    assertThat(json.statusCode()).isEqualTo(400);
    assertThat(json.getHeader("Content-Type")).isEqualTo("application/json");
    assertThat(json.bodyAsString())
        .isEqualTo("{\n  \"error\": \"Service not found: Onboard.Bootstrap\"\n}");

    HttpResponse<Buffer> proto = post("/prpc/KMS.KMS.Nope", Buffer.buffer(), null);
    assertThat(proto.statusCode()).isEqualTo(400);
    assertThat(proto.getHeader("Content-Type")).isEqualTo("application/octet-stream");
    assertThat(protoError(proto)).isEqualTo("Service not found: Nope");
    assertThat(get("/prpc/KMS.").bodyAsString()).contains("Service not found: \"");
  }

  @Test
  void pathsOutsideOneSegmentAreNotPrpc() throws Exception {
    assertThat(get("/prpc/GetMeta/extra").statusCode()).isEqualTo(404);
    assertThat(get("/prpc/").statusCode()).isEqualTo(404);
  }

  // ---- JSON vs protobuf ----

  @Test
  void postWithoutJsonFlagIsProtobuf() throws Exception {
    HttpResponse<Buffer> response = post("/prpc/GetMeta", Buffer.buffer(), null);
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.getHeader("Content-Type")).isEqualTo("application/octet-stream");
    assertThat(GetMetaResponse.parseFrom(response.body().getBytes())).isEqualTo(META);
  }

  @ParameterizedTest
  @ValueSource(strings = {"?json", "?json=", "?json=1", "?json=true", "?x=1&json", "?json&json=0"})
  void jsonFlagVariantsSelectJson(String query) throws Exception {
    RawResponse response =
        raw(HttpMethod.POST, "/prpc/GetAppEnvEncryptPubKey" + query, null, appIdProto());
    // The request body is protobuf bytes, which are not JSON: a JSON-mode server must refuse it.
    assertThat(response.status()).isEqualTo(400);
    assertThat(response.contentType()).isEqualTo("application/json");
    assertThat(response.body()).startsWith("{\n  \"error\": \"invalid JSON request");

    RawResponse ok =
        raw(
            HttpMethod.POST,
            "/prpc/GetAppEnvEncryptPubKey" + query,
            null,
            Buffer.buffer("{\"app_id\":\"" + APP_ID_HEX + "\"}"));
    assertThat(ok.status()).isEqualTo(200);
    assertThat(ok.contentType()).isEqualTo("application/json");
    assertThat(ok.body()).contains("\"public_key\":\"" + APP_ID_HEX + "\"");
  }

  @ParameterizedTest
  @ValueSource(strings = {"?json=false", "?json=0", "?jsonx", "?JSON", ""})
  void otherQueriesStayProtobuf(String query) throws Exception {
    RawResponse response =
        raw(HttpMethod.POST, "/prpc/GetAppEnvEncryptPubKey" + query, null, appIdProto());
    assertThat(response.status()).isEqualTo(200);
    assertThat(response.contentType()).isEqualTo("application/octet-stream");
    assertThat(PublicKeyResponse.parseFrom(response.bytes()).getPublicKey())
        .isEqualTo(ByteString.fromHex(APP_ID_HEX));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"application/json", "application/json; charset=utf-8", "Application/JSON"})
  void jsonContentTypeSelectsJson(String contentType) throws Exception {
    HttpResponse<Buffer> response =
        post(
            "/prpc/GetAppEnvEncryptPubKey",
            "{\"app_id\":\"0x" + APP_ID_HEX.toUpperCase(Locale.ROOT) + "\"}",
            contentType);
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.getHeader("Content-Type")).isEqualTo("application/json");
    assertThat(response.bodyAsString())
        .isEqualTo(
            "{\"public_key\":\""
                + APP_ID_HEX
                + "\",\"signature\":\"\",\"timestamp\":1700000000,\"signature_v1\":\"\"}");
  }

  @Test
  void getDecodesTheQueryString() throws Exception {
    HttpResponse<Buffer> response = get("/prpc/GetAppEnvEncryptPubKey?app_id=" + APP_ID_HEX);
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.getHeader("Content-Type")).isEqualTo("application/json");
    assertThat(response.bodyAsString()).contains("\"public_key\":\"" + APP_ID_HEX + "\"");

    HttpResponse<Buffer> withJson =
        get("/prpc/KMS.GetAppEnvEncryptPubKey?json&app_id=0x" + APP_ID_HEX);
    assertThat(withJson.statusCode()).isEqualTo(200);

    HttpResponse<Buffer> shortId = get("/prpc/GetAppEnvEncryptPubKey?app_id=1111");
    assertThat(shortId.statusCode()).isEqualTo(400);
    assertThat(shortId.bodyAsString()).isEqualTo("{\n  \"error\": \"app_id must be 20 bytes\"\n}");

    HttpResponse<Buffer> badHex = get("/prpc/GetAppEnvEncryptPubKey?app_id=xyz1");
    assertThat(badHex.statusCode()).isEqualTo(400);
    assertThat(badHex.bodyAsString()).contains("invalid hex in field app_id");
  }

  // ---- Empty input / output ----

  @Test
  void emptyInputIgnoresAnyPayload() throws Exception {
    for (String query : List.of("?json", "")) {
      for (String body : List.of("null", "{}", "", "{{ not json", "\u00ff\u00fe")) {
        HttpResponse<Buffer> response = post("/prpc/GetMeta" + query, body, null);
        assertThat(response.statusCode()).as(query + " " + body).isEqualTo(200);
      }
    }
    HttpResponse<Buffer> garbageProto =
        post("/prpc/GetMeta", Buffer.buffer(new byte[] {(byte) 0xff, 0x0a, (byte) 0x80}), null);
    assertThat(GetMetaResponse.parseFrom(garbageProto.body().getBytes())).isEqualTo(META);
  }

  @Test
  void emptyResponseIsNullInJsonAndNothingInProtobuf() throws Exception {
    HttpResponse<Buffer> json = post("/prpc/Finish?json", "null", null);
    assertThat(json.statusCode()).isEqualTo(200);
    assertThat(json.bodyAsString()).isEqualTo("null");
    HttpResponse<Buffer> proto = post("/prpc/Finish", Buffer.buffer(), null);
    assertThat(proto.statusCode()).isEqualTo(200);
    assertThat(proto.getHeader("Content-Type")).isEqualTo("application/octet-stream");
    assertThat(proto.body() == null ? 0 : proto.body().length()).isZero();
  }

  // ---- body limit ----

  @Test
  void bodyOverLimitByContentLengthIsRefused() throws Exception {
    String big = "{\"vm_config\":\"" + "x".repeat(SIGN_CERT_LIMIT) + "\"}";
    HttpResponse<Buffer> response = post("/prpc/SignCert?json", big, null);
    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(response.bodyAsString()).isEqualTo("{\n  \"error\": \"payload too large\"\n}");
    assertThat(response.getHeader("Connection")).isEqualTo("close");
  }

  @Test
  void bodyAtTheLimitIsAccepted() throws Exception {
    String prefix = "{\"vm_config\":\"";
    String exact = prefix + "y".repeat(SIGN_CERT_LIMIT - prefix.length() - 2) + "\"}";
    assertThat(exact).hasSize(SIGN_CERT_LIMIT);
    HttpResponse<Buffer> response = post("/prpc/SignCert?json", exact, null);
    assertThat(response.statusCode()).isEqualTo(200);
  }

  @Test
  void chunkedBodyOverLimitIsRefusedWhileStreaming() throws Exception {
    RawResponse response =
        rawChunked(
            "/prpc/SignCert?json", null, "{\"vm_config\":\"", "z".repeat(40), "z".repeat(40));
    assertThat(response.status()).isEqualTo(400);
    assertThat(response.body()).isEqualTo("{\n  \"error\": \"payload too large\"\n}");
  }

  @Test
  void chunkedBodyUnderLimitIsServed() throws Exception {
    RawResponse response =
        rawChunked("/prpc/SignCert?json", null, "{\"vm_con", "fig\":\"ch", "unked\"}");
    assertThat(response.status()).isEqualTo(200);
    assertThat(response.body()).isEqualTo("{\"certificate_chain\":[\"chunked\"]}");
  }

  @Test
  void expectContinueIsAnsweredOnlyWithinTheLimit() throws Exception {
    assertThat(expectContinue("/prpc/SignCert?json", "{\"vm_config\":\"go\"}"))
        .isEqualTo("200 {\"certificate_chain\":[\"go\"]}");
    // Over the limit the client never gets a 100 and sends no body: it gets the error at once.
    assertThat(expectContinue("/prpc/SignCert?json", "x".repeat(SIGN_CERT_LIMIT + 1)))
        .isEqualTo("400 {\n  \"error\": \"payload too large\"\n}");
  }

  /** POSTs with Expect: 100-continue, sending the body only on 100; returns "status body". */
  private String expectContinue(String uri, String body) throws Exception {
    return http.request(HttpMethod.POST, port, "127.0.0.1", uri)
        .compose(
            request -> {
              request
                  .putHeader("Expect", "100-continue")
                  .putHeader("Content-Length", Integer.toString(body.length()))
                  .continueHandler(v -> request.end(body));
              Future<RawResponse> response = request.response().compose(PrpcRoutesTest::collect);
              request.sendHead();
              return response;
            })
        .map(r -> r.status() + " " + r.body())
        .await(10, TimeUnit.SECONDS);
  }

  @Test
  void preDispatchErrorsIgnoreContentType() throws Exception {
    // dstack quirk (§2.4): JSON Content-Type without ?json gets a protobuf error before dispatch.
    String big = "{\"vm_config\":\"" + "x".repeat(SIGN_CERT_LIMIT) + "\"}";
    HttpResponse<Buffer> tooLarge = post("/prpc/SignCert", big, "application/json");
    assertThat(tooLarge.statusCode()).isEqualTo(400);
    assertThat(tooLarge.getHeader("Content-Type")).isEqualTo("application/octet-stream");
    assertThat(protoError(tooLarge)).isEqualTo("payload too large");

    HttpResponse<Buffer> malformed =
        post("/prpc/GetAppEnvEncryptPubKey", "{\"app_id\":", "application/json");
    assertThat(malformed.statusCode()).isEqualTo(400);
    assertThat(malformed.getHeader("Content-Type")).isEqualTo("application/octet-stream");
    assertThat(protoError(malformed)).startsWith("invalid JSON request");

    // Errors from inside the handler follow the normal rule: Content-Type JSON gives JSON.
    HttpResponse<Buffer> denied =
        post("/prpc/GetAppKey", "{\"vm_config\":\"deny\"}", "application/json");
    assertThat(denied.getHeader("Content-Type")).isEqualTo("application/json");
    assertThat(denied.bodyAsString()).isEqualTo("{\n  \"error\": \"App not allowed\"\n}");
  }

  // ---- decode failures ----

  @Test
  void malformedRequestsGetClearMessages() throws Exception {
    HttpResponse<Buffer> malformed = post("/prpc/GetAppEnvEncryptPubKey?json", "{\"app_id\"", null);
    assertThat(malformed.statusCode()).isEqualTo(400);
    assertThat(malformed.bodyAsString()).startsWith("{\n  \"error\": \"invalid JSON request: ");

    HttpResponse<Buffer> badHex =
        post("/prpc/GetAppEnvEncryptPubKey?json", "{\"app_id\":\"0x123\"}", null);
    assertThat(badHex.statusCode()).isEqualTo(400);
    assertThat(badHex.bodyAsString())
        .isEqualTo("{\n  \"error\": \"invalid hex in field app_id: odd number of digits (3)\"\n}");

    HttpResponse<Buffer> badProto =
        post("/prpc/GetAppEnvEncryptPubKey", Buffer.buffer(new byte[] {0x0a, 0x05, 0x01}), null);
    assertThat(badProto.statusCode()).isEqualTo(400);
    assertThat(protoError(badProto)).startsWith("invalid protobuf request: ");
  }

  // ---- handler outcomes ----

  @Test
  void handlerErrorsGoThroughPrpcErrors() throws Exception {
    HttpResponse<Buffer> denied = post("/prpc/GetAppKey?json", "{\"vm_config\":\"deny\"}", null);
    assertThat(denied.statusCode()).isEqualTo(400);
    assertThat(denied.bodyAsString()).isEqualTo("{\n  \"error\": \"App not allowed\"\n}");

    for (String failure : List.of("throw", "internal", "null")) {
      HttpResponse<Buffer> response =
          post("/prpc/GetAppKey?json", "{\"vm_config\":\"" + failure + "\"}", null);
      assertThat(response.statusCode()).as(failure).isEqualTo(400);
      assertThat(response.bodyAsString())
          .as(failure)
          .isEqualTo("{\n  \"error\": \"internal error\"\n}");
    }

    HttpResponse<Buffer> proto =
        post(
            "/prpc/GetAppKey",
            Buffer.buffer(GetAppKeyRequest.newBuilder().setVmConfig("throw").build().toByteArray()),
            null);
    assertThat(proto.getHeader("Content-Type")).isEqualTo("application/octet-stream");
    assertThat(protoError(proto)).isEqualTo("internal error");
  }

  @Test
  void handlersRunOnTheEventLoopAndSeeTheCaller() throws Exception {
    assertThat(get("/prpc/GetMeta").statusCode()).isEqualTo(200);
    assertThat(onEventLoop).containsExactly(true);
    assertThat(callers).hasSize(1);
    assertThat(callers.get(0).certificateChain()).isEmpty();
    assertThat(callers.get(0).hasCertificate()).isFalse();
    assertThat(callers.get(0).remoteAddress()).startsWith("127.0.0.1:");
  }

  @Test
  void futuresCompletedOffTheEventLoopStillAnswer() throws Exception {
    HttpResponse<Buffer> response =
        post("/prpc/GetAppKey?json", "{\"vm_config\":\"worker\"}", null);
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.bodyAsString()).startsWith("{\"ca_cert\":\"from-worker\"");
  }

  @Test
  void protobufRequestAndResponseRoundTrip() throws Exception {
    GetAppKeyRequest request =
        GetAppKeyRequest.newBuilder().setApiVersion(1).setVmConfig("{\"os\":1}").build();
    HttpResponse<Buffer> response =
        post("/prpc/GetAppKey", Buffer.buffer(request.toByteArray()), null);
    assertThat(response.statusCode()).isEqualTo(200);
    AppKeyResponse keys = AppKeyResponse.parseFrom(response.body().getBytes());
    assertThat(keys.getGatewayAppId()).isEqualTo("{\"os\":1}");
    assertThat(keys.getDiskCryptKey()).isEqualTo(ByteString.fromHex("00ff"));
  }

  // ---- metrics ----

  @Test
  void metricsAppearInThePrometheusScrape() throws Exception {
    post("/prpc/GetAppKey?json", "{}", null); // ok
    post("/prpc/KMS.GetAppKey?json", "{\"vm_config\":\"deny\"}", null); // handler error
    post("/prpc/SignCert?json", "{\"vm_config\":\"" + "x".repeat(100) + "\"}", null); // too large
    post("/prpc/GetAppEnvEncryptPubKey?json", "{\"app_id\":\"" + APP_ID_HEX + "\"}", null);
    get("/prpc/Whatever");
    get("/prpc/Other");

    String scrape = registry.scrape();

    assertThat(scrape)
        .contains("kms_rpc_requests_total{method=\"GetAppKey\",outcome=\"ok\"} 1.0")
        .contains("kms_rpc_requests_total{method=\"GetAppKey\",outcome=\"error\"} 1.0")
        .contains("kms_rpc_requests_total{method=\"SignCert\",outcome=\"error\"} 1.0")
        .contains("kms_rpc_requests_total{method=\"GetAppEnvEncryptPubKey\",outcome=\"ok\"} 1.0")
        .contains("kms_rpc_requests_total{method=\"unknown\",outcome=\"error\"} 2.0")
        .contains("kms_rpc_requests_total{method=\"GetMeta\",outcome=\"ok\"} 0.0")
        .doesNotContain("Whatever")
        .contains("kms_rpc_request_duration_seconds_count{method=\"GetAppKey\"} 2")
        .contains("kms_rpc_request_duration_seconds_bucket{method=\"GetAppKey\",le=")
        .contains("# TYPE dstack_kms_attestation_requests_total counter")
        .contains("# HELP dstack_kms_attestation_requests_total ")
        .contains("# TYPE dstack_kms_attestation_failures_total counter")
        .contains("\ndstack_kms_attestation_requests_total 3.0\n")
        .contains("\ndstack_kms_attestation_failures_total 2.0\n");
  }

  @Test
  void otherListenersTrimTheirOwnPrefixAndHaveNoAttestationCounters() {
    PrometheusMeterRegistry own = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    PrpcRoutes onboard =
        new PrpcRoutes(
            "Onboard.",
            List.of(
                PrpcMethod.of(
                    "Finish",
                    Empty.getDefaultInstance(),
                    (c, r) -> Future.succeededFuture(Empty.getDefaultInstance()))),
            own,
            null);
    assertThat(onboard.trimPrefix("Onboard.Onboard.Finish")).isEqualTo("Finish");
    assertThat(onboard.trimPrefix("KMS.Finish")).isEqualTo("KMS.Finish");
    assertThat(onboard.methodNames()).containsExactly("Finish");
    assertThat(own.scrape())
        .contains("kms_rpc_requests_total{method=\"Finish\",outcome=\"ok\"} 0.0")
        .doesNotContain("dstack_kms_attestation");
    PrpcRoutes bare = new PrpcRoutes("", List.of(), own, null);
    assertThat(bare.trimPrefix("KMS.GetMeta")).isEqualTo("KMS.GetMeta");
  }

  @Test
  void jsonFlagFollowsDstackRules() {
    assertThat(PrpcRoutes.jsonFlag("json")).isTrue();
    assertThat(PrpcRoutes.jsonFlag("a=1&json=true")).isTrue();
    assertThat(PrpcRoutes.jsonFlag("%6Ason=1")).isTrue(); // keys are URL-decoded
    assertThat(PrpcRoutes.jsonFlag("json=yes")).isFalse();
    assertThat(PrpcRoutes.jsonFlag("json=%zz")).isFalse();
    assertThat(PrpcRoutes.jsonFlag(null)).isFalse();
  }

  // ---- helpers ----

  private HttpResponse<Buffer> get(String uri) throws Exception {
    return client.get(port, "127.0.0.1", uri).send().await(10, TimeUnit.SECONDS);
  }

  private HttpResponse<Buffer> post(String uri, String body, String contentType) throws Exception {
    return post(uri, Buffer.buffer(body.getBytes(StandardCharsets.ISO_8859_1)), contentType);
  }

  private HttpResponse<Buffer> post(String uri, Buffer body, String contentType) throws Exception {
    var request = client.post(port, "127.0.0.1", uri);
    if (contentType != null) {
      request.putHeader("Content-Type", contentType);
    }
    return request.sendBuffer(body).await(10, TimeUnit.SECONDS);
  }

  private static String protoError(HttpResponse<Buffer> response)
      throws InvalidProtocolBufferException {
    return ProtoError.parseFrom(response.body().getBytes()).getMessage();
  }

  private static Buffer appIdProto() {
    return Buffer.buffer(
        AppId.newBuilder().setAppId(ByteString.fromHex(APP_ID_HEX)).build().toByteArray());
  }

  @SuppressWarnings("ArrayRecordComponent") // a response as received; never compared or hashed
  record RawResponse(int status, String contentType, MultiMap headers, byte[] bytes) {
    String body() {
      return new String(bytes, StandardCharsets.UTF_8);
    }
  }

  /** A request sent exactly as written (the URI is not re-encoded). */
  private RawResponse raw(HttpMethod method, String uri, String contentType, Buffer body)
      throws Exception {
    return http.request(method, port, "127.0.0.1", uri)
        .compose(
            request -> {
              if (contentType != null) {
                request.putHeader("Content-Type", contentType);
              }
              return request.send(body).compose(PrpcRoutesTest::collect);
            })
        .await(10, TimeUnit.SECONDS);
  }

  /** A POST with Transfer-Encoding: chunked, one chunk per string. */
  private RawResponse rawChunked(String uri, String contentType, String... chunks)
      throws Exception {
    return http.request(HttpMethod.POST, port, "127.0.0.1", uri)
        .compose(
            request -> {
              request.setChunked(true);
              if (contentType != null) {
                request.putHeader("Content-Type", contentType);
              }
              Future<RawResponse> response = request.response().compose(PrpcRoutesTest::collect);
              writeChunks(request, chunks, 0);
              return response;
            })
        .await(10, TimeUnit.SECONDS);
  }

  private static void writeChunks(HttpClientRequest request, String[] chunks, int index) {
    if (index == chunks.length) {
      request.end();
      return;
    }
    // One write per event-loop turn with a short pause, so the server sees separate chunks.
    request
        .write(chunks[index])
        .onComplete(ar -> vertx.setTimer(5, t -> writeChunks(request, chunks, index + 1)));
  }

  private static Future<RawResponse> collect(io.vertx.core.http.HttpClientResponse response) {
    return response
        .body()
        .map(
            body ->
                new RawResponse(
                    response.statusCode(),
                    response.getHeader("Content-Type"),
                    response.headers(),
                    body.getBytes()));
  }
}
