package dev.cvmkms.kms;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import dev.cvmkms.autheth.testing.BlockedThreadWarnings;
import dev.cvmkms.kms.cli.VerifyResponseCommand;
import dev.cvmkms.kms.keys.ResponseSignature;
import dev.cvmkms.kms.proto.AppId;
import dev.cvmkms.kms.proto.GetMetaResponse;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Signed public responses from the real jar: each signed RPC, in JSON and protobuf mode, carries a
 * signature that recovers GetMeta's {@code k256_pubkey} for the documented digest, and a changed
 * body, method or timestamp does not; the headers survive a TLS-terminating proxy that rewrites
 * {@code Date}; {@code kms verify-response} checks a {@code curl -i} dump.
 */
class ResponseSignatureIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HexFormat HEX = HexFormat.of();
  private static final String APP_ID = "ab".repeat(20);
  private static final String PROXY_DATE = "Thu, 01 Jan 2009 00:00:00 GMT";

  @TempDir static Path tmp;
  private static KmsProcess kms;
  private static HttpClient http;
  private static Path rootCa;
  private static byte[] pinned;

  @BeforeAll
  static void start() throws Exception {
    Path state = tmp.resolve("state");
    int port = KmsProcess.freePort();
    kms = KmsProcess.start(tmp, port, "dev", "--state-dir", state.toString(), "--port", "" + port);
    rootCa = state.resolve("root-ca.crt");
    kms.awaitReady(rootCa, Duration.ofSeconds(60));
    http = KmsProcess.client(rootCa);
    // The operator pins the key from a GetMeta they trust (here: the first one, protobuf mode).
    HttpResponse<byte[]> meta =
        http.send(
            kms.post("/prpc/GetMeta", "application/octet-stream", new byte[0]),
            HttpResponse.BodyHandlers.ofByteArray());
    pinned = GetMetaResponse.parseFrom(meta.body()).getK256Pubkey().toByteArray();
    assertThat(pinned).hasSize(33);
  }

  @AfterAll
  static void stop() throws Exception {
    if (kms != null) {
      assertThat(BlockedThreadWarnings.blocking(kms.log())).as("blocked event loops").isEmpty();
      kms.close();
    }
  }

  /** A signed call: the path to request and the bare method name signed. */
  @SuppressWarnings("ArrayRecordComponent") // a request to send; never compared or hashed
  record Call(String method, String path, String contentType, byte[] body) {
    HttpRequest request(KmsProcess kms) {
      return body == null ? kms.get(path) : kms.post(path, contentType, body);
    }
  }

  static List<Call> calls() {
    byte[] appId = AppId.newBuilder().setAppId(ByteString.fromHex(APP_ID)).build().toByteArray();
    return List.of(
        new Call("GetMeta", "/prpc/GetMeta", null, null),
        new Call("GetMeta", "/prpc/KMS.GetMeta", "application/octet-stream", new byte[0]),
        new Call(
            "GetTempCaCert",
            "/prpc/GetTempCaCert?json",
            "application/json",
            "null".getBytes(StandardCharsets.UTF_8)),
        new Call(
            "GetTempCaCert", "/prpc/KMS.GetTempCaCert", "application/octet-stream", new byte[0]),
        new Call(
            "GetAppEnvEncryptPubKey", "/prpc/GetAppEnvEncryptPubKey?app_id=" + APP_ID, null, null),
        new Call(
            "GetAppEnvEncryptPubKey",
            "/prpc/GetAppEnvEncryptPubKey",
            "application/octet-stream",
            appId));
  }

  @Test
  void everySignedRpc_recoversGetMetasKey_andChangesDoNot() throws Exception {
    for (Call call : calls()) {
      HttpResponse<byte[]> r =
          http.send(call.request(kms), HttpResponse.BodyHandlers.ofByteArray());
      assertThat(r.statusCode()).as(call.path()).isEqualTo(200);
      ResponseSignature sig = signature(r);
      byte[] body = r.body();
      assertThat(sig.verifies(call.method(), body, pinned)).as(call.path()).isTrue();
      // The documented digest, computed here from its definition.
      byte[] digest =
          dev.cvmkms.kms.keys.derivation.Keccak256.digest(
              ("dstack-kms-response-v1:"
                      + sig.timestamp()
                      + ":"
                      + call.method()
                      + ":"
                      + HEX.formatHex(
                          java.security.MessageDigest.getInstance("SHA-256").digest(body)))
                  .getBytes(StandardCharsets.US_ASCII));
      assertThat(dev.cvmkms.kms.keys.derivation.Secp256k1.recoverPublicKey(digest, sig.signature()))
          .hasValueSatisfying(k -> assertThat(k).isEqualTo(pinned));

      byte[] changed = body.clone();
      changed[changed.length / 2] ^= 0x01;
      assertThat(sig.verifies(call.method(), changed, pinned)).as("changed body").isFalse();
      for (String other :
          Set.of("GetMeta", "GetTempCaCert", "GetAppEnvEncryptPubKey", "GetAppKey")) {
        if (!other.equals(call.method())) {
          assertThat(sig.verifies(other, body, pinned)).as("method " + other).isFalse();
        }
      }
      for (long delta : new long[] {-1, 1, 3600}) {
        assertThat(
                new ResponseSignature(sig.timestamp() + delta, sig.signature())
                    .verifies(call.method(), body, pinned))
            .as("timestamp %+d", delta)
            .isFalse();
      }
      long now = System.currentTimeMillis() / 1000;
      assertThat(sig.timestamp()).isBetween(now - 300, now + 5);
    }
  }

  @Test
  void errorsAndOtherRpcs_areNotSigned() throws Exception {
    HttpResponse<byte[]> error =
        http.send(
            kms.get("/prpc/GetAppEnvEncryptPubKey?app_id=00"),
            HttpResponse.BodyHandlers.ofByteArray());
    assertThat(error.statusCode()).isEqualTo(400);
    assertThat(error.headers().firstValue(ResponseSignature.SIGNATURE_HEADER)).isEmpty();
    HttpResponse<byte[]> ready =
        http.send(kms.get("/healthz/ready"), HttpResponse.BodyHandlers.ofByteArray());
    assertThat(ready.headers().firstValue(ResponseSignature.SIGNATURE_HEADER)).isEmpty();
  }

  @Test
  void signaturesSurviveAProxyThatRewritesDate() throws Exception {
    try (DateRewritingProxy proxy = DateRewritingProxy.start(rootCa, kms.uri(""))) {
      HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
      for (Call call : calls()) {
        HttpRequest.Builder b =
            HttpRequest.newBuilder(URI.create(proxy.url() + call.path()))
                .timeout(Duration.ofSeconds(20));
        if (call.body() != null) {
          b.header("Content-Type", call.contentType())
              .POST(HttpRequest.BodyPublishers.ofByteArray(call.body()));
        }
        HttpResponse<byte[]> r = plain.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(r.statusCode()).as(call.path()).isEqualTo(200);
        assertThat(r.headers().firstValue("Date"))
            .as("the proxy rewrote Date")
            .hasValue(PROXY_DATE);
        assertThat(r.headers().firstValue("Via")).hasValue("1.1 test-proxy");
        assertThat(signature(r).verifies(call.method(), r.body(), pinned)).as(call.path()).isTrue();
      }
    }
  }

  @Test
  void verifyResponse_checksACurlDump() throws Exception {
    Path dump = tmp.resolve("getmeta.http");
    Process curl =
        new ProcessBuilder(
                "curl",
                "-sS",
                "-i",
                "--cacert",
                rootCa.toString(),
                "-o",
                dump.toString(),
                kms.uri("/prpc/GetMeta?json").toString())
            .redirectErrorStream(true)
            .start();
    String curlOut = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(curl.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(curl.exitValue()).as(curlOut).isZero();
    String key = HEX.formatHex(pinned);

    Cli ok = Cli.run("--method", "GetMeta", "--k256-pubkey", key, "--response", dump.toString());
    assertThat(ok.code).as(ok.err).isZero();
    assertThat(JSON.readTree(ok.out).get("verdict").asText()).isEqualTo("valid");
    assertThat(ok.err).contains("OK: GetMeta response signed by the pinned key");
    assertThat(
            Cli.run("--method", "KMS.GetMeta", "--k256-pubkey", key, "--response", dump.toString())
                .code)
        .as("the service prefix is trimmed as the server does")
        .isZero();

    Cli wrongMethod =
        Cli.run("--method", "GetTempCaCert", "--k256-pubkey", key, "--response", dump.toString());
    assertThat(wrongMethod.code).isEqualTo(1);
    assertThat(wrongMethod.err).contains("INVALID").contains("not the pinned key");

    byte[] raw = Files.readAllBytes(dump);
    raw[raw.length - 3] ^= 0x01;
    Path tampered = Files.write(tmp.resolve("tampered.http"), raw);
    Cli bad =
        Cli.run("--method", "GetMeta", "--k256-pubkey", key, "--response", tampered.toString());
    assertThat(bad.code).isEqualTo(1);
    assertThat(JSON.readTree(bad.out).get("verdict").asText()).isEqualTo("invalid");

    String otherKey = "02" + "11".repeat(32);
    assertThat(
            Cli.run("--method", "GetMeta", "--k256-pubkey", otherKey, "--response", dump.toString())
                .code)
        .isEqualTo(1);
    assertThat(
            Cli.run(
                    "--method",
                    "GetMeta",
                    "--k256-pubkey",
                    key,
                    "--response",
                    dump.toString(),
                    "--max-age",
                    "86400")
                .code)
        .isZero();

    // The same check from the parts: body file and the two header values.
    String text = new String(Files.readAllBytes(dump), StandardCharsets.ISO_8859_1);
    String ts = header(text, "x-kms-timestamp");
    String sig = header(text, "x-kms-signature");
    Path body =
        Files.write(
            tmp.resolve("body"),
            java.util.Arrays.copyOfRange(
                Files.readAllBytes(dump), text.indexOf("\r\n\r\n") + 4, (int) Files.size(dump)));
    assertThat(
            Cli.run(
                    "--method",
                    "GetMeta",
                    "--k256-pubkey",
                    key,
                    "--body",
                    body.toString(),
                    "--timestamp",
                    ts,
                    "--signature",
                    sig)
                .code)
        .isZero();
    assertThat(
            Cli.run(
                    "--method",
                    "GetMeta",
                    "--k256-pubkey",
                    key,
                    "--body",
                    body.toString(),
                    "--timestamp",
                    "" + (Long.parseLong(ts) + 1),
                    "--signature",
                    sig)
                .code)
        .isEqualTo(1);

    Cli badKey =
        Cli.run("--method", "GetMeta", "--k256-pubkey", "zz", "--response", dump.toString());
    assertThat(badKey.code).isEqualTo(2);
    assertThat(badKey.err).contains("--k256-pubkey");
  }

  private static String header(String dump, String name) {
    for (String line : dump.substring(0, dump.indexOf("\r\n\r\n")).split("\r\n", -1)) {
      if (line.toLowerCase(Locale.ROOT).startsWith(name + ":")) {
        return line.substring(name.length() + 1).trim();
      }
    }
    throw new AssertionError("no " + name + " in the dump");
  }

  private static ResponseSignature signature(HttpResponse<?> r) {
    return ResponseSignature.parse(
        r.headers().firstValue(ResponseSignature.TIMESTAMP_HEADER).orElseThrow(),
        r.headers().firstValue(ResponseSignature.SIGNATURE_HEADER).orElseThrow());
  }

  record Cli(int code, String out, String err) {
    static Cli run(String... args) {
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      CommandLine cli = new CommandLine(new VerifyResponseCommand());
      cli.setOut(new PrintWriter(out, true));
      cli.setErr(new PrintWriter(err, true));
      int code = cli.execute(args);
      return new Cli(code, out.toString(), err.toString());
    }
  }

  /**
   * A TLS-terminating reverse proxy as a CDN would be: plain HTTP in front, HTTPS to the KMS behind
   * (trusting its root CA), and it replaces {@code Date} and adds {@code Via} on every response.
   * Vert.x, because the JDK's server stamps its own Date over ours.
   */
  static final class DateRewritingProxy implements AutoCloseable {
    private static final Set<String> HOP_BY_HOP =
        Set.of("connection", "keep-alive", "transfer-encoding", "content-length", "date");
    private final io.vertx.core.Vertx vertx;
    private final io.vertx.core.http.HttpServer server;

    private DateRewritingProxy(io.vertx.core.Vertx vertx, io.vertx.core.http.HttpServer server) {
      this.vertx = vertx;
      this.server = server;
    }

    static DateRewritingProxy start(Path rootCa, URI upstream) throws Exception {
      io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
      io.vertx.core.http.HttpClient client =
          vertx.createHttpClient(
              new io.vertx.core.http.HttpClientOptions()
                  .setSsl(true)
                  .setTrustOptions(
                      new io.vertx.core.net.PemTrustOptions().addCertPath(rootCa.toString())));
      io.vertx.core.http.HttpServer server =
          vertx
              .createHttpServer()
              .requestHandler(
                  req ->
                      req.body()
                          .compose(
                              body ->
                                  client
                                      .request(
                                          new io.vertx.core.http.RequestOptions()
                                              .setMethod(req.method())
                                              .setHost(upstream.getHost())
                                              .setPort(upstream.getPort())
                                              .setURI(req.uri()))
                                      .compose(
                                          out -> {
                                            String type = req.getHeader("Content-Type");
                                            if (type != null) {
                                              out.putHeader("Content-Type", type);
                                            }
                                            return out.send(body);
                                          })
                                      .compose(
                                          in ->
                                              in.body()
                                                  .map(
                                                      payload -> {
                                                        var resp =
                                                            req.response()
                                                                .setStatusCode(in.statusCode());
                                                        in.headers()
                                                            .forEach(
                                                                (name, value) -> {
                                                                  if (!HOP_BY_HOP.contains(
                                                                      name.toLowerCase(
                                                                          Locale.ROOT))) {
                                                                    resp.headers().add(name, value);
                                                                  }
                                                                });
                                                        resp.putHeader("Date", PROXY_DATE);
                                                        resp.putHeader("Via", "1.1 test-proxy");
                                                        return resp.end(payload);
                                                      })))
                          .onFailure(e -> req.response().setStatusCode(502).end(e.toString())))
              .listen(0, "127.0.0.1")
              .await(10, TimeUnit.SECONDS);
      return new DateRewritingProxy(vertx, server);
    }

    String url() {
      return "http://127.0.0.1:" + server.actualPort();
    }

    @Override
    public void close() throws TimeoutException {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }
}
