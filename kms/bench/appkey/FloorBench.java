import com.google.protobuf.ByteString;
import dev.cvmkms.kms.attestation.dcap.EcdsaP256;
import dev.cvmkms.kms.attestation.dcap.TdxQuote;
import dev.cvmkms.kms.attestation.mock.MockTdx;
import dev.cvmkms.kms.keys.CertificateIssuer;
import dev.cvmkms.kms.keys.EcKeys;
import dev.cvmkms.kms.keys.derivation.AppKeys;
import dev.cvmkms.kms.keys.derivation.KeyDerivation;
import dev.cvmkms.kms.rpc.PrpcJson;
import dev.cvmkms.kms.proto.AppKeyResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.time.Clock;
import java.util.Arrays;
import java.util.Locale;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * The GetAppKey floor F for kms/bench/appkey.sh: the per-request work no implementation can avoid,
 * measured in-process, single-threaded, after warm-up, interleaved in rounds (median round):
 *
 * <ul>
 *   <li>two ECDSA P-256 verifications: the QE report (by the PCK key) and the quote (by the
 *       attestation key) of a mock quote, with the JDK provider the verifier uses;
 *   <li>the GetAppKey derivation: HKDF, the P-256 scalar multiplications of the disk and env keys,
 *       the app K256 key and the root K256 signature ({@link KeyDerivation#appKeys});
 *   <li>the server's TLS record work on a keep-alive connection: unwrap the request, wrap the
 *       response (sizes of the real request and AppKeyResponse), JDK SSLEngine, TLS 1.3; the
 *       client's half of the exchange is timed apart and left out.
 * </ul>
 *
 * <p>Usage: FloorBench <root-ca.crt> [seconds]. Prints {@code floor <name> <µs>} lines, the last
 * one {@code floor total_ms <F>}.
 */
public final class FloorBench {
  interface Op {
    void run() throws Exception;
  }

  static volatile Object sink;

  public static void main(String[] args) throws Exception {
    String rootPem = Files.readString(Path.of(args[0]));
    double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 6;

    // Two P-256 verifications on a real (mock-platform) quote's own data.
    MockTdx mock = MockTdx.create(Clock.systemUTC().instant());
    TdxQuote quote = TdxQuote.parse(mock.quote(new byte[64]));
    PublicKey pck = mock.pki().pckCertificate().getPublicKey();
    PublicKey ak = EcdsaP256.publicKey(quote.attestationKey());
    byte[] qeReport = quote.qeReport().raw();
    byte[] qeSig = quote.qeReportSignature();
    byte[] signed = quote.signedRegion();
    byte[] sig = quote.signature();
    Op verifyQe = () -> require(EcdsaP256.verify(pck, qeReport, qeSig));
    Op verifyQuote = () -> require(EcdsaP256.verify(ak, signed, sig));

    // The derivation, with fresh root keys as a KMS has them.
    SecureRandom random = new SecureRandom();
    KeyPair rootCa = EcKeys.generateP256(random);
    byte[] rootK256 = EcKeys.generateK256Scalar(random);
    byte[] appId = new byte[20];
    byte[] instanceId = new byte[20];
    random.nextBytes(appId);
    random.nextBytes(instanceId);
    ECPrivateKey caKey = (ECPrivateKey) rootCa.getPrivate();
    Op derive = () -> sink = KeyDerivation.appKeys(caKey, rootK256, appId, instanceId);

    // TLS records of one keep-alive request/response, sized like the real ones.
    AppKeys k = KeyDerivation.appKeys(caKey, rootK256, appId, instanceId);
    String body =
        PrpcJson.encodeToString(
            AppKeyResponse.newBuilder()
                .setCaCert(rootPem)
                .setDiskCryptKey(ByteString.copyFrom(k.diskCryptKey()))
                .setEnvCryptKey(ByteString.copyFrom(k.envCryptKey()))
                .setK256Key(ByteString.copyFrom(k.k256Key()))
                .setK256Signature(ByteString.copyFrom(k.k256Signature()))
                .setOsImageHash(ByteString.copyFrom(new byte[32]))
                .build());
    byte[] request =
        ("POST /prpc/GetAppKey?json HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
                + "\r\nContent-Length: 17\r\nUser-Agent: Java-http-client/25\r\n\r\n"
                + "{\"api_version\":1}")
            .getBytes(StandardCharsets.US_ASCII);
    byte[] response =
        ("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
                + body.length()
                + "\r\n\r\n"
                + body)
            .getBytes(StandardCharsets.US_ASCII);
    TlsPair tls = new TlsPair(rootCa);
    Op records = () -> tls.exchange(request, response);

    Op[] ops = {verifyQe, verifyQuote, derive, records};
    String[] names = {"p256_verify_qe_report", "p256_verify_quote", "derivation", "tls_records"};
    double[] us = measure(ops, seconds);
    us[3] *= tls.serverShare(); // the client's wrap/unwrap is not the KMS's work
    double total = 0;
    for (int i = 0; i < ops.length; i++) {
      System.out.printf(Locale.ROOT, "floor %s %.1f%n", names[i], us[i]);
      total += us[i];
    }
    System.out.printf(
        Locale.ROOT, "floor request_bytes %d response_bytes %d%n", request.length, response.length);
    System.out.printf(Locale.ROOT, "floor total_ms %.3f%n", total / 1000);
  }

  private static void require(boolean ok) {
    if (!ok) {
      throw new IllegalStateException("signature did not verify");
    }
  }

  /** Warm-up, then rounds of ~50 ms batches per op, interleaved; median batch mean in µs. */
  static double[] measure(Op[] ops, double seconds) throws Exception {
    long warm = (long) (seconds * 0.3e9 / ops.length);
    for (Op op : ops) {
      long end = System.nanoTime() + warm;
      while (System.nanoTime() < end) {
        op.run();
      }
    }
    int rounds = Math.max(5, (int) (seconds * 0.7 / (0.05 * ops.length)));
    double[][] means = new double[ops.length][rounds];
    for (int r = 0; r < rounds; r++) {
      for (int i = 0; i < ops.length; i++) {
        long n = 0;
        long t0 = System.nanoTime();
        long stop = t0 + 50_000_000L;
        long t;
        do {
          ops[i].run();
          n++;
          t = System.nanoTime();
        } while (t < stop);
        means[i][r] = (t - t0) / 1000.0 / n;
      }
    }
    double[] out = new double[ops.length];
    for (int i = 0; i < ops.length; i++) {
      Arrays.sort(means[i]);
      out[i] = means[i][rounds / 2];
    }
    return out;
  }

  /**
   * A TLS 1.3 client and server SSLEngine, handshaken once. {@link #exchange} times only the
   * server's half (unwrap request, wrap response); the client's half is not the KMS's work.
   */
  static final class TlsPair {
    final SSLEngine client;
    final SSLEngine server;
    final ByteBuffer c2s;
    final ByteBuffer s2c;
    final ByteBuffer app;
    long serverNanos;
    long allNanos;

    /** The server's part of the time spent in {@link #exchange}. */
    double serverShare() {
      return allNanos == 0 ? 1 : serverNanos / (double) allNanos;
    }

    TlsPair(KeyPair key) throws Exception {
      X509Certificate cert = CertificateIssuer.rootCa(key, java.time.Instant.now());
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      ks.setKeyEntry("k", key.getPrivate(), new char[0], new X509Certificate[] {cert});
      KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(ks, new char[0]);
      SSLContext sctx = SSLContext.getInstance("TLSv1.3");
      sctx.init(kmf.getKeyManagers(), null, null);
      SSLContext cctx = SSLContext.getInstance("TLSv1.3");
      cctx.init(null, new TrustManager[] {new TrustAll()}, null);
      server = sctx.createSSLEngine();
      server.setUseClientMode(false);
      client = cctx.createSSLEngine("127.0.0.1", 443);
      client.setUseClientMode(true);
      int net = Math.max(server.getSession().getPacketBufferSize(), 1 << 15);
      c2s = ByteBuffer.allocate(net);
      s2c = ByteBuffer.allocate(net);
      app = ByteBuffer.allocate(1 << 16);
      handshake();
    }

    private void handshake() throws Exception {
      ByteBuffer empty = ByteBuffer.allocate(0);
      client.beginHandshake();
      server.beginHandshake();
      for (int i = 0; i < 100; i++) {
        boolean done =
            client.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING
                && server.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING;
        if (done) {
          return;
        }
        step(client, empty, c2s);
        step(server, empty, s2c);
        c2s.flip();
        if (c2s.hasRemaining()) {
          server.unwrap(c2s, app);
          runTasks(server);
        }
        c2s.compact();
        s2c.flip();
        if (s2c.hasRemaining()) {
          client.unwrap(s2c, app);
          runTasks(client);
        }
        s2c.compact();
        app.clear();
      }
      throw new IllegalStateException("TLS handshake did not finish");
    }

    private static void step(SSLEngine e, ByteBuffer empty, ByteBuffer out) throws Exception {
      if (e.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_WRAP) {
        e.wrap(empty, out);
        runTasks(e);
      }
    }

    private static void runTasks(SSLEngine e) {
      Runnable t;
      while ((t = e.getDelegatedTask()) != null) {
        t.run();
      }
    }

    /** Client sends the request, the server reads it and answers, the client reads the answer. */
    void exchange(byte[] request, byte[] response) throws Exception {
      long t0 = System.nanoTime();
      c2s.clear();
      client.wrap(ByteBuffer.wrap(request), c2s);
      c2s.flip();
      app.clear();
      long t1 = System.nanoTime();
      while (c2s.hasRemaining()) {
        server.unwrap(c2s, app);
      }
      s2c.clear();
      ByteBuffer resp = ByteBuffer.wrap(response);
      while (resp.hasRemaining()) {
        server.wrap(resp, s2c);
      }
      long t2 = System.nanoTime();
      s2c.flip();
      app.clear();
      while (s2c.hasRemaining()) {
        SSLEngineResult r = client.unwrap(s2c, app);
        if (r.getStatus() != SSLEngineResult.Status.OK) {
          break; // e.g. a post-handshake NewSessionTicket consumed on the first rounds
        }
      }
      sink = app;
      serverNanos += t2 - t1;
      allNanos += System.nanoTime() - t0;
    }
  }

  static final class TrustAll implements X509TrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
