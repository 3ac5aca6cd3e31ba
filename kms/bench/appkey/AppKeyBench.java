import dev.cvmkms.kms.attestation.mock.MockTdx;
import dev.cvmkms.kms.attestation.ratls.RaTlsExtensions;
import dev.cvmkms.kms.keys.CertExtensions;
import dev.cvmkms.kms.keys.CertProfile;
import dev.cvmkms.kms.keys.CertificateIssuer;
import dev.cvmkms.kms.keys.EcKeys;
import dev.cvmkms.kms.encoding.Pem;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * GetAppKey load generator for kms/bench/appkey.sh: RA-TLS clients as a dstack guest makes them
 * (temp CA from GetTempCaCert, fresh P-256 key, mock TDX attestation bound to it, as `kms dev`
 * trusts), a fixed number of concurrent clients in a closed loop, latency per request.
 *
 * <p>Usage: AppKeyBench <port> <root-ca.crt> <keepalive|handshake> <concurrency> <seconds>
 * Prints one line: mode concurrency requests errors rps p50_ms p99_ms max_ms.
 */
public final class AppKeyBench {
  private static final String BODY = "{\"api_version\":1}";

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    X509Certificate root = Pem.parseCertificate(Files.readString(Path.of(args[1])));
    String mode = args[2];
    int concurrency = Integer.parseInt(args[3]);
    long seconds = Long.parseLong(args[4]);

    SSLContext anonymous = context(root, null, null);
    HttpClient plain = HttpClient.newBuilder().sslContext(anonymous).build();
    String tmp =
        plain
            .send(
                HttpRequest.newBuilder(
                        URI.create("https://127.0.0.1:" + port + "/prpc/GetTempCaCert?json"))
                    .build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    String tmpCert = json(tmp, "temp_ca_cert");
    String tmpKey = json(tmp, "temp_ca_key");
    X509Certificate tmpCa = Pem.parseCertificate(tmpCert);
    PrivateKey tmpCaKey = EcKeys.parseP256Pkcs8Pem(tmpKey).getPrivate();
    MockTdx guest = MockTdx.create(Clock.systemUTC().instant());

    List<SSLContext> clients = new ArrayList<>();
    for (int i = 0; i < concurrency; i++) {
      KeyPair key = EcKeys.generateP256(new SecureRandom());
      byte[] att =
          guest
              .attestation(RaTlsExtensions.reportData(key.getPublic().getEncoded()))
              .stripped()
              .encode();
      X509Certificate cert =
          CertificateIssuer.issue(
              CertProfile.leaf(
                  "RA-TLS TEMP Cert",
                  List.of(),
                  List.of(new CertProfile.CustomExtension(CertExtensions.ATTESTATION, att))),
              key.getPublic().getEncoded(),
              CertificateIssuer.subjectOf(tmpCa),
              tmpCaKey,
              Instant.now());
      clients.add(context(root, key, cert));
      if (mode.equals("export")) {
        // for a generator outside this JVM (kms/bench/appkey/handshake.py): PEM certificate and key
        Path dir = Path.of(args[5]);
        Files.writeString(dir.resolve("c" + i + ".crt"), Pem.certificate(cert));
        Files.writeString(dir.resolve("c" + i + ".key"), EcKeys.pkcs8Pem(key));
      }
    }
    if (mode.equals("export")) {
      return;
    }

    long deadline = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
    AtomicLong errors = new AtomicLong();
    long[][] results = new long[concurrency][];
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < concurrency; i++) {
      SSLContext ctx = clients.get(i);
      int idx = i;
      Runnable loop =
          mode.equals("keepalive")
              ? () -> results[idx] = keepAlive(ctx, port, deadline, errors)
              : () -> results[idx] = handshakes(ctx, port, deadline, errors);
      Thread t = new Thread(loop, "bench-" + i);
      threads.add(t);
      t.start();
    }
    for (Thread t : threads) {
      t.join(); // join orders each thread's write of results[i] before the reads below
    }
    List<long[]> perThread = Arrays.asList(results);
    long total = perThread.stream().mapToLong(a -> a == null ? 0 : a.length).sum();
    long[] all = new long[(int) total];
    int at = 0;
    for (long[] a : perThread) {
      System.arraycopy(a, 0, all, at, a.length);
      at += a.length;
    }
    Arrays.sort(all);
    double rps = total / (double) seconds;
    System.out.printf(
        "%s %d %d %d %.0f %.2f %.2f %.2f%n",
        mode,
        concurrency,
        total,
        errors.get(),
        rps,
        pct(all, 0.50),
        pct(all, 0.99),
        all.length == 0 ? 0 : all[all.length - 1] / 1e6);
  }

  private static double pct(long[] sorted, double p) {
    if (sorted.length == 0) {
      return 0;
    }
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)] / 1e6;
  }

  /**
   * One HTTP/1.1 keep-alive connection per client: TLS once, quote verified on every request. A
   * plain blocking socket rather than java.net.http: the generator shares the server's cores, and
   * HttpClient's machinery cost more CPU per request than the server's own HTTP work.
   */
  private static long[] keepAlive(SSLContext ctx, int port, long deadline, AtomicLong errors) {
    byte[] request = request(false);
    LongList lat = new LongList();
    SSLSocket s = null;
    InputStream in = null;
    try {
      while (System.nanoTime() < deadline) {
        long t0 = System.nanoTime();
        try {
          if (s == null) {
            s = open(ctx, port);
            // one buffer per connection; a closed loop leaves it empty between responses
            in = new java.io.BufferedInputStream(s.getInputStream(), 16_384);
          }
          OutputStream out = s.getOutputStream();
          out.write(request);
          out.flush();
          Response r = Response.read(in);
          if (r.status != 200 || !r.body.contains("disk_crypt_key")) {
            errors.incrementAndGet();
            continue;
          }
        } catch (Exception e) {
          errors.incrementAndGet();
          close(s);
          s = null;
          continue;
        }
        lat.add(System.nanoTime() - t0);
      }
    } finally {
      close(s);
    }
    return lat.toArray();
  }

  private static SSLSocket open(SSLContext ctx, int port) throws java.io.IOException {
    SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", port);
    s.setSoTimeout(30_000);
    s.setTcpNoDelay(true); // else Nagle + delayed ACK add ~40 ms to the first request bytes
    s.setEnabledProtocols(new String[] {"TLSv1.3"});
    return s;
  }

  private static void close(SSLSocket s) {
    if (s != null) {
      try {
        s.close();
      } catch (java.io.IOException ignored) {
        // the connection is discarded either way
      }
    }
  }

  private static byte[] request(boolean close) {
    return ("POST /prpc/GetAppKey?json HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
            + (close ? "\r\nConnection: close" : "")
            + "\r\nContent-Length: "
            + BODY.length()
            + "\r\n\r\n"
            + BODY)
        .getBytes(StandardCharsets.US_ASCII);
  }

  /** An HTTP/1.1 response with a Content-Length body, read byte-exactly off a kept connection. */
  private record Response(int status, String body) {
    static Response read(InputStream in) throws java.io.IOException {
      StringBuilder head = new StringBuilder(256);
      int b;
      while (!(head.length() >= 4 && head.substring(head.length() - 4).equals("\r\n\r\n"))) {
        if ((b = in.read()) < 0) {
          throw new java.io.EOFException("connection closed in the response head");
        }
        if (head.length() > 16_384) {
          throw new java.io.IOException("response head too long");
        }
        head.append((char) b);
      }
      String[] lines = head.toString().split("\r\n");
      int status = Integer.parseInt(lines[0].split(" ")[1]);
      int length = -1;
      for (String line : lines) {
        int colon = line.indexOf(':');
        if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase("content-length")) {
          length = Integer.parseInt(line.substring(colon + 1).trim());
        }
      }
      if (length < 0 || length > 1 << 20) {
        throw new java.io.IOException("no usable Content-Length");
      }
      byte[] body = in.readNBytes(length);
      if (body.length != length) {
        throw new java.io.EOFException("connection closed in the body");
      }
      return new Response(status, new String(body, StandardCharsets.UTF_8));
    }
  }

  /** A new TLS connection (full handshake with the client certificate) for every request. */
  private static long[] handshakes(SSLContext ctx, int port, long deadline, AtomicLong errors) {
    byte[] request = request(true);
    LongList lat = new LongList();
    while (System.nanoTime() < deadline) {
      long t0 = System.nanoTime();
      try (SSLSocket s = open(ctx, port)) {
        OutputStream out = s.getOutputStream();
        out.write(request);
        out.flush();
        InputStream in = s.getInputStream();
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        in.transferTo(buf);
        String resp = buf.toString(StandardCharsets.US_ASCII);
        if (!resp.startsWith("HTTP/1.1 200") || !resp.contains("disk_crypt_key")) {
          errors.incrementAndGet();
          continue;
        }
      } catch (Exception e) {
        errors.incrementAndGet();
        continue;
      }
      lat.add(System.nanoTime() - t0);
    }
    return lat.toArray();
  }

  private static SSLContext context(X509Certificate root, KeyPair key, X509Certificate cert)
      throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("root", root);
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    KeyManagerFactory kmf = null;
    if (key != null) {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      ks.setKeyEntry("c", key.getPrivate(), new char[0], new X509Certificate[] {cert});
      kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(ks, new char[0]);
    }
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    return ctx;
  }

  /** The value of a top-level JSON string field (the KMS's pretty JSON; no escapes but \n). */
  private static String json(String body, String field) {
    String key = "\"" + field + "\":";
    int i = body.indexOf(key);
    if (i < 0) {
      throw new IllegalStateException("no " + field + " in " + body);
    }
    int start = body.indexOf('"', i + key.length()) + 1;
    StringBuilder sb = new StringBuilder();
    for (int j = start; body.charAt(j) != '"'; j++) {
      char c = body.charAt(j);
      if (c == '\\') {
        char n = body.charAt(++j);
        sb.append(n == 'n' ? '\n' : n);
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }

  private static final class LongList {
    private long[] a = new long[1024];
    private int n;

    void add(long v) {
      if (n == a.length) {
        a = Arrays.copyOf(a, n * 2);
      }
      a[n++] = v;
    }

    long[] toArray() {
      return Arrays.copyOf(a, n);
    }
  }
}
