package dev.cvmkms.kms.client;

import com.google.protobuf.Empty;
import com.google.protobuf.Message;
import dev.cvmkms.kms.KmsException;
import dev.cvmkms.kms.attestation.AttestationProvider;
import dev.cvmkms.kms.attestation.VerifiedAttestation;
import dev.cvmkms.kms.client.KmsClientException.Reason;
import dev.cvmkms.kms.encoding.Pem;
import dev.cvmkms.kms.keys.EcKeys;
import dev.cvmkms.kms.proto.GetTempCaCertResponse;
import dev.cvmkms.kms.rpc.CryptoPool;
import dev.cvmkms.kms.rpc.PrpcJson;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.ClientSSLOptions;
import io.vertx.core.net.KeyCertOptions;
import java.net.URI;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.jspecify.annotations.Nullable;

/**
 * Talks to a KMS the way a dstack guest does, with the server always verified (spec §14.1, §11).
 * One instance per use (one guest boot, one onboarding): it owns one small HTTP client, closed by
 * {@link #close()}. Every step runs within the total deadline that {@link #open()} starts.
 *
 * <ol>
 *   <li>{@link #open()}: {@code GetTempCaCert}. With a pinned root the server is checked before the
 *       request is written; without one, its certificate is checked once the answer names the root
 *       ({@code ca_cert}): nothing secret travels on that request.
 *   <li>{@link Session#call}: a fresh RA-TLS client certificate under the temp CA, then the RPC
 *       over mutual TLS, written only after the server passed the checks. A leaf not seen at open
 *       has its attestation verified again, and when attestation is required it must hold the key
 *       that was verified (and authorised) at open.
 * </ol>
 *
 * The checks ({@link ServerCertificateCheck}: chain to the root, hostname, {@code kms:rpc}; then
 * {@link ServerAttestationPolicy}) run in our code on each connection's peer chain, after the TLS
 * handshake proved the server holds the leaf's key and before any request byte is sent, so a
 * refusal says exactly why. Crypto, attestation and verification run on the {@link CryptoPool},
 * never on the event loop.
 */
public final class RaTlsKmsClient {
  private static final com.fasterxml.jackson.databind.ObjectMapper ERROR_JSON =
      new com.fasterxml.jackson.databind.ObjectMapper();

  /** Bounds of one use of the client. */
  public record Settings(
      URI prpcBase,
      Optional<X509Certificate> trustedRoot,
      AttestationProvider attester,
      ServerAttestationPolicy serverPolicy,
      Duration connectTimeout,
      Duration deadline,
      int maxResponseBytes) {
    public static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    public static final Duration DEADLINE = Duration.ofSeconds(60);
    public static final int MAX_RESPONSE_BYTES = 1 << 20;

    public Settings {
      Objects.requireNonNull(prpcBase, "prpcBase");
      Objects.requireNonNull(trustedRoot, "trustedRoot");
      Objects.requireNonNull(attester, "attester");
      Objects.requireNonNull(serverPolicy, "serverPolicy");
      if (connectTimeout.isNegative() || connectTimeout.isZero()) {
        throw new IllegalArgumentException("connectTimeout must be positive");
      }
      if (deadline.isNegative() || deadline.isZero()) {
        throw new IllegalArgumentException("deadline must be positive");
      }
      if (maxResponseBytes <= 0) {
        throw new IllegalArgumentException("maxResponseBytes must be positive");
      }
    }

    /** dstack's bounds: 5 s to connect, 60 s in total; answers up to 1 MiB. */
    public static Settings of(
        String url,
        Optional<X509Certificate> trustedRoot,
        AttestationProvider attester,
        ServerAttestationPolicy serverPolicy) {
      return new Settings(
          KmsUrls.prpcBase(url),
          trustedRoot,
          attester,
          serverPolicy,
          CONNECT_TIMEOUT,
          DEADLINE,
          MAX_RESPONSE_BYTES);
    }
  }

  private final CryptoPool workers;
  private final Settings settings;
  private final HttpClient http;
  private final String host;
  private final int port;
  private volatile long deadlineNanos;

  private RaTlsKmsClient(Vertx vertx, CryptoPool workers, Settings settings) {
    this.workers = workers;
    this.settings = settings;
    this.host = KmsUrls.host(settings.prpcBase());
    this.port = KmsUrls.port(settings.prpcBase());
    this.http =
        vertx.createHttpClient(
            new HttpClientOptions()
                .setProtocolVersion(HttpVersion.HTTP_1_1)
                // one connection per request: each request's server certificate is the one checked
                .setKeepAlive(false)
                .setConnectTimeout(Math.toIntExact(settings.connectTimeout().toMillis()))
                .setMaxInitialLineLength(4096)
                .setMaxHeaderSize(16 * 1024),
            new PoolOptions().setHttp1MaxSize(2).setMaxWaitQueueSize(4));
  }

  public static RaTlsKmsClient create(Vertx vertx, CryptoPool workers, Settings settings) {
    return new RaTlsKmsClient(
        Objects.requireNonNull(vertx, "vertx"),
        Objects.requireNonNull(workers, "workers"),
        Objects.requireNonNull(settings, "settings"));
  }

  public Settings settings() {
    return settings;
  }

  /** Closes the HTTP client; in-flight requests fail. */
  public Future<Void> close() {
    return http.close();
  }

  /** {@link #open()} then {@link Session#call} of one RPC: what a guest does at boot. */
  public <Resp extends Message> Future<Resp> openAndCall(
      String method, Message request, Resp responseDefault) {
    return open().compose(s -> s.call(method, request, responseDefault));
  }

  /** GetTempCaCert with the server checks; starts the total deadline. */
  public Future<Session> open() {
    deadlineNanos = System.nanoTime() + settings.deadline().toNanos();
    Optional<X509Certificate> pinned = settings.trustedRoot();
    AtomicReference<List<X509Certificate>> seenChain = new AtomicReference<>();
    AtomicReference<Verified> early = new AtomicReference<>();
    return bounded(
        "GetTempCaCert",
        post(
                "GetTempCaCert",
                PrpcJson.encode(Empty.getDefaultInstance()),
                checkedInCode(),
                chain -> {
                  seenChain.set(chain);
                  if (pinned.isEmpty()) {
                    return Future.succeededFuture(); // checked below, once ca_cert is known
                  }
                  return verify(chain, pinned.get(), null)
                      .<Void>map(
                          v -> {
                            early.set(v);
                            return null;
                          });
                })
            .compose(
                body -> {
                  GetTempCaCertResponse tempCa =
                      decode("GetTempCaCert", body, GetTempCaCertResponse.getDefaultInstance());
                  X509Certificate returnedRoot = parseRoot(tempCa.getCaCert());
                  if (pinned.isPresent()
                      && !EcKeys.samePublicKey(
                          pinned.get().getPublicKey(), returnedRoot.getPublicKey())) {
                    throw rejected(
                        "the KMS's root CA (ca_cert) is not the trusted root CA given to the"
                            + " client");
                  }
                  X509Certificate root = pinned.orElse(returnedRoot);
                  Future<Verified> checked =
                      early.get() != null
                          ? Future.succeededFuture(early.get())
                          : verify(
                              Objects.requireNonNull(
                                  seenChain.get(), "post shows the chain before the body"),
                              root,
                              null);
                  return checked.map(v -> new Session(tempCa, root, v.leaf(), v.attestation()));
                }));
  }

  /** The outcome of checking one server certificate. */
  private record Verified(X509Certificate leaf, Optional<VerifiedAttestation> attestation) {}

  /**
   * Chain, hostname and usage, then the attestation, on a worker. {@code known}: a leaf already
   * verified in this session (its attestation is not verified twice).
   */
  private Future<Verified> verify(
      List<X509Certificate> chain, X509Certificate root, @Nullable Verified known) {
    return workers.run(
        () -> {
          X509Certificate leaf =
              ServerCertificateCheck.check(
                  chain, root, host, settings.serverPolicy().clock().instant());
          if (known != null && known.leaf().equals(leaf)) {
            return known;
          }
          Optional<VerifiedAttestation> att = settings.serverPolicy().check(leaf);
          if (known != null
              && known.attestation().isPresent()
              && !EcKeys.samePublicKey(known.leaf().getPublicKey(), leaf.getPublicKey())) {
            throw rejected(
                "the server's key changed between GetTempCaCert and the RPC; refusing to trust"
                    + " an identity that was not checked");
          }
          return new Verified(leaf, att);
        });
  }

  /** What {@link #open()} established: the temp CA, the root and the checked server. */
  public final class Session {
    private final GetTempCaCertResponse tempCa;
    private final X509Certificate root;
    private final Verified server;
    private @Nullable Future<RaTlsClientCertificate> clientCert; // made on first use

    private Session(
        GetTempCaCertResponse tempCa,
        X509Certificate root,
        X509Certificate leaf,
        Optional<VerifiedAttestation> attestation) {
      this.tempCa = tempCa;
      this.root = root;
      this.server = new Verified(leaf, attestation);
    }

    /** The GetTempCaCert answer (temp CA pair and root CA PEM). */
    public GetTempCaCertResponse tempCa() {
      return tempCa;
    }

    /** The root CA the server chains to: the pinned one, else the returned {@code ca_cert}. */
    public X509Certificate rootCa() {
      return root;
    }

    /** The server's RPC certificate as checked at open. */
    public X509Certificate serverCertificate() {
      return server.leaf();
    }

    /** The server's verified attestation, empty if it had none (and none was required). */
    public Optional<VerifiedAttestation> serverAttestation() {
      return server.attestation();
    }

    /**
     * Calls {@code method} over mutual RA-TLS (the client certificate is made once per session).
     *
     * @param responseDefault the response type's default instance
     */
    public <Resp extends Message> Future<Resp> call(
        String method, Message request, Resp responseDefault) {
      return bounded(
          method,
          clientCertificate()
              .compose(
                  cert -> {
                    ClientSSLOptions ssl =
                        checkedInCode()
                            .setKeyCertOptions(
                                KeyCertOptions.wrap(
                                    new SingleKeyManager(
                                        EcKeys.parseP256Pkcs8Pem(cert.keyPem()).getPrivate(),
                                        cert.certificate())));
                    return post(
                        method,
                        PrpcJson.encode(request),
                        ssl,
                        chain -> verify(chain, root, server).map(v -> null));
                  })
              .map(body -> decode(method, body, responseDefault)));
    }

    private synchronized Future<RaTlsClientCertificate> clientCertificate() {
      Future<RaTlsClientCertificate> cert = clientCert;
      if (cert == null || cert.failed()) {
        cert =
            workers.run(
                () ->
                    RaTlsClientCertificate.issue(
                        tempCa.getTempCaCert(),
                        tempCa.getTempCaKey(),
                        settings.attester(),
                        new SecureRandom(),
                        settings.serverPolicy().clock().instant()));
        clientCert = cert;
      }
      return cert;
    }
  }

  /**
   * The TLS layer accepts the server's chain so that our own checks (run before anything is sent)
   * decide, with a precise message; the handshake still proves possession of the leaf's key.
   */
  private static ClientSSLOptions checkedInCode() {
    return new ClientSSLOptions()
        .setTrustAll(true)
        .setHostnameVerificationAlgorithm("")
        .setUseAlpn(false);
  }

  /**
   * POSTs pRPC JSON; {@code beforeSend} sees the server's chain once the TLS handshake is done and
   * may refuse before any byte of the request is written.
   */
  private Future<Buffer> post(
      String method,
      byte[] body,
      ClientSSLOptions ssl,
      java.util.function.Function<List<X509Certificate>, Future<Void>> beforeSend) {
    long remaining = remainingMillis();
    if (remaining <= 0) {
      return Future.failedFuture(timedOut(method));
    }
    RequestOptions options =
        new RequestOptions()
            .setMethod(HttpMethod.POST)
            .setHost(host)
            .setPort(port)
            .setURI(settings.prpcBase().getRawPath() + "/" + method + "?json")
            .setSsl(true)
            .setSslOptions(ssl)
            .setConnectTimeout(Math.min(settings.connectTimeout().toMillis(), remaining))
            .setIdleTimeout(remaining)
            .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
            .putHeader(HttpHeaders.ACCEPT, "application/json");
    return http.request(options)
        .recover(e -> Future.failedFuture(unavailable(method, e)))
        .compose(
            req -> {
              // Failures arrive through the futures below; without a handler Vert.x logs them too.
              req.exceptionHandler(e -> {});
              return beforeSend
                  .apply(peerChain(req.connection()))
                  .compose(v -> req.send(Buffer.buffer(body)))
                  .compose(this::readBody)
                  .onFailure(e -> req.connection().close());
            });
  }

  private Future<Buffer> readBody(HttpClientResponse response) {
    Promise<Buffer> done = Promise.promise();
    Buffer body = Buffer.buffer();
    int max = settings.maxResponseBytes();
    response.handler(
        chunk -> {
          if (body.length() + chunk.length() > max) {
            done.tryFail(
                new KmsClientException(
                    Reason.BAD_RESPONSE, "the KMS's answer is larger than " + max + " bytes"));
            response.request().connection().close();
            return;
          }
          body.appendBuffer(chunk);
        });
    response.exceptionHandler(done::tryFail);
    response.endHandler(
        v -> {
          if (response.statusCode() == 200) {
            done.tryComplete(body);
          } else {
            done.tryFail(rpcError(response.statusCode(), body));
          }
        });
    return done.future();
  }

  private static KmsClientException rpcError(int status, Buffer body) {
    String message = "HTTP " + status;
    try {
      var node = ERROR_JSON.readTree(body.getBytes());
      if (node != null && node.hasNonNull("error")) {
        message = node.get("error").asText();
      }
    } catch (java.io.IOException | RuntimeException e) {
      // not pRPC JSON: keep the status
    }
    return new KmsClientException(Reason.RPC_ERROR, printable(message));
  }

  /** At most 512 characters without control characters: it comes from the remote side. */
  private static String printable(String s) {
    String cut = s.length() > 512 ? s.substring(0, 512) + "..." : s;
    StringBuilder out = new StringBuilder(cut.length());
    cut.codePoints().forEach(c -> out.appendCodePoint(Character.isISOControl(c) ? ' ' : c));
    return out.toString();
  }

  private static List<X509Certificate> peerChain(HttpConnection connection) {
    List<Certificate> certs;
    try {
      certs = connection.peerCertificates();
    } catch (SSLPeerUnverifiedException e) {
      return List.of();
    }
    List<X509Certificate> chain = new ArrayList<>();
    if (certs != null) {
      for (Certificate c : certs) {
        if (c instanceof X509Certificate x) {
          chain.add(x);
        }
      }
    }
    return chain;
  }

  private static <T extends Message> T decode(String method, Buffer body, T defaultInstance) {
    try {
      return PrpcJson.decode(body.getBytes(), defaultInstance);
    } catch (KmsException e) {
      throw new KmsClientException(
          Reason.BAD_RESPONSE, method + ": the KMS's answer does not decode: " + e.getMessage());
    }
  }

  private static X509Certificate parseRoot(String pem) {
    try {
      return Pem.parseCertificate(pem);
    } catch (IllegalArgumentException e) {
      throw new KmsClientException(
          Reason.BAD_RESPONSE, "GetTempCaCert: ca_cert is not a certificate: " + e.getMessage());
    }
  }

  /** Applies what is left of the total deadline, and names the step in failures. */
  private <T> Future<T> bounded(String method, Future<T> step) {
    long remaining = remainingMillis();
    if (remaining <= 0) {
      return Future.failedFuture(timedOut(method));
    }
    return step.timeout(remaining, TimeUnit.MILLISECONDS)
        .recover(
            e -> {
              if (e instanceof TimeoutException) {
                return Future.failedFuture(timedOut(method));
              }
              if (e instanceof KmsClientException k) {
                return Future.failedFuture(
                    k.getMessage().startsWith(method + ":")
                        ? k
                        : new KmsClientException(k.reason(), method + ": " + k.getMessage(), k));
              }
              return Future.failedFuture(unavailable(method, e));
            });
  }

  private long remainingMillis() {
    long d = deadlineNanos;
    if (d == 0) {
      return settings.deadline().toMillis();
    }
    return TimeUnit.NANOSECONDS.toMillis(d - System.nanoTime());
  }

  private KmsClientException timedOut(String method) {
    return new KmsClientException(
        Reason.UNAVAILABLE,
        method + ": no answer from the KMS within " + settings.deadline().toSeconds() + " s");
  }

  private KmsClientException unavailable(String method, Throwable e) {
    if (e instanceof KmsClientException k) {
      return k;
    }
    String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    return new KmsClientException(
        Reason.UNAVAILABLE,
        method + ": cannot reach the KMS at " + host + ":" + port + ": " + printable(why),
        e);
  }

  private static KmsClientException rejected(String message) {
    return new KmsClientException(Reason.SERVER_REJECTED, message);
  }

  @Override
  public String toString() {
    return "RaTlsKmsClient[" + settings.prpcBase() + "]";
  }
}
