package dev.cvmkms.kms;

import dev.cvmkms.autheth.testing.ChildProcess;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** Test helper: runs the real {@code kms.jar} as a child process and talks to it over HTTPS. */
public final class KmsProcess implements AutoCloseable {
  private final Path stderr;
  private final Process process;
  private final int port;

  private KmsProcess(Process process, Path stderr, int port) {
    this.process = process;
    this.stderr = stderr;
    this.port = port;
  }

  public static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** Starts {@code java -jar kms.jar <args>} with the JDK running the tests. */
  public static KmsProcess start(Path logDir, int port, String... args) throws IOException {
    return start(logDir, port, java.util.Map.of(), List.of(), args);
  }

  /**
   * As {@link #start(Path, int, String...)} with extra environment variables, the command run under
   * {@code wrapper} (e.g. {@code prlimit --nofile=1024:1024 --}).
   */
  public static KmsProcess start(
      Path logDir,
      int port,
      java.util.Map<String, String> env,
      List<String> wrapper,
      String... args)
      throws IOException {
    String jar = System.getProperty("kms.jar", "target/kms.jar");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = new ArrayList<>(wrapper);
    cmd.addAll(List.of(java, "--enable-native-access=ALL-UNNAMED", "-Xmx256m", "-jar", jar));
    cmd.addAll(List.of(args));
    Files.createDirectories(logDir);
    Path err = Files.createTempFile(logDir, "kms-", ".stderr");
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().putAll(env);
    Process p =
        pb.redirectError(err.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    return new KmsProcess(p, err, port);
  }

  /** Polls {@code /healthz/ready} until 200 or the deadline; fails with the process log. */
  public void awaitReady(Path rootCa, Duration deadline) throws Exception {
    long end = System.nanoTime() + deadline.toNanos();
    Exception last = null;
    while (System.nanoTime() < end) {
      if (!process.isAlive()) {
        throw new AssertionError("kms exited with " + process.exitValue() + ":\n" + log());
      }
      if (Files.exists(rootCa)) {
        try {
          HttpResponse<byte[]> r =
              client(rootCa).send(get("/healthz/ready"), HttpResponse.BodyHandlers.ofByteArray());
          if (r.statusCode() == 200) {
            return;
          }
        } catch (IOException e) {
          last = e;
        }
      }
      Thread.sleep(100);
    }
    throw new AssertionError("kms not ready within " + deadline + " (" + last + "):\n" + log());
  }

  public HttpRequest get(String path) {
    return HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(10)).GET().build();
  }

  public HttpRequest post(String path, String contentType, byte[] body) {
    return HttpRequest.newBuilder(uri(path))
        .timeout(Duration.ofSeconds(10))
        .header("Content-Type", contentType)
        .POST(HttpRequest.BodyPublishers.ofByteArray(body))
        .build();
  }

  public URI uri(String path) {
    return URI.create("https://localhost:" + port + path);
  }

  /** An HTTPS client that trusts only the given root CA, with hostname verification on. */
  public static HttpClient client(Path rootCa) throws Exception {
    return client(rootCa, null);
  }

  /**
   * A client trusting only {@code rootCa}, its connections from {@code local} (for example
   * 127.0.0.2, to stay clear of the per-address cap a flood from 127.0.0.1 fills); null: any.
   */
  public static HttpClient client(Path rootCa, java.net.InetAddress local) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("root", readCert(rootCa));
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    HttpClient.Builder b =
        HttpClient.newBuilder().sslContext(ctx).connectTimeout(Duration.ofSeconds(5));
    if (local != null) {
      b.localAddress(local);
    }
    return b.build();
  }

  public static X509Certificate readCert(Path pem) throws Exception {
    try (InputStream in = Files.newInputStream(pem)) {
      return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
  }

  public String log() {
    try {
      return Files.readString(stderr, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(log unreadable: " + e + ")";
    }
  }

  public Process process() {
    return process;
  }

  /**
   * SIGTERM, then wait for the drain; SIGKILL only if it hangs (or the wait is interrupted: the
   * interrupt flag stays set). Idempotent: {@link #close()} after it does nothing more.
   */
  public void stop() {
    ChildProcess.stop(process, Duration.ofSeconds(20));
  }

  /** {@link #stop()}. */
  @Override
  public void close() {
    stop();
  }
}
