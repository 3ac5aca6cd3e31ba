package dev.cvmkms.kms.cli;

import dev.cvmkms.kms.config.KmsConfig;
import dev.cvmkms.kms.config.KmsConfigLoader;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.concurrent.Callable;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code kms healthcheck}: the container's HEALTHCHECK without curl. Exits 0 only when {@code GET
 * /healthz/ready} answers 200; 1 otherwise (Docker's "unhealthy"), with the reason on stderr.
 *
 * <p>The URL and the root CA come from the same {@code kms.toml} and {@code KMS__…} environment the
 * service reads, so the probe follows the port and {@code cert_dir} the container was given. The
 * listener's certificate must chain to {@code root-ca.crt}; the host name is not checked, because
 * the probe dials the loopback address, not the KMS domain, and sends nothing but the GET.
 */
@Command(
    name = "healthcheck",
    mixinStandardHelpOptions = true,
    description =
        "Exit 0 when the KMS at --url (default: from --config) answers 200 on /healthz/ready.")
public final class HealthcheckCommand implements Callable<Integer> {
  static final Path DEFAULT_CONFIG = Path.of("/etc/kms/kms.toml");
  private static final int MAX_BODY = 512;

  @Option(
      names = {"-c", "--config"},
      description =
          "kms.toml to take rpc.address, rpc.port and cert_dir from. Default: ${DEFAULT-VALUE}")
  Path config = DEFAULT_CONFIG;

  @Option(
      names = "--url",
      paramLabel = "URL",
      description = "Probe this URL instead (https://HOST:PORT/healthz/ready).")
  @Nullable URI url;

  @Option(
      names = "--root-ca",
      paramLabel = "FILE",
      description =
          "PEM root CA the listener's certificate must chain to. Default: cert_dir/root-ca.crt")
  @Nullable Path rootCa;

  @Option(
      names = "--timeout",
      defaultValue = "5000",
      paramLabel = "MS",
      description = "Connect and read timeout, each, in milliseconds. Default: ${DEFAULT-VALUE}")
  long timeoutMillis;

  @Override
  public Integer call() {
    try {
      Target t = target();
      String body = probe(t.url, t.rootCa, Duration.ofMillis(timeoutMillis));
      System.out.println(body);
      return 0;
    } catch (ProbeFailure e) {
      System.err.println("kms healthcheck: " + e.getMessage());
      return 1;
    }
  }

  record Target(URI url, Path rootCa) {}

  Target target() throws ProbeFailure {
    if (timeoutMillis < 1 || timeoutMillis > 120_000) {
      throw new ProbeFailure("--timeout must be between 1 and 120000 ms");
    }
    URI u = url;
    Path ca = rootCa;
    if (u == null || ca == null) {
      KmsConfig cfg;
      try {
        cfg = KmsConfigLoader.load(config, System.getenv());
      } catch (RuntimeException e) {
        throw new ProbeFailure(
            e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
      }
      if (u == null) u = readyUrl(cfg.rpc().address(), cfg.rpc().port());
      if (ca == null) ca = cfg.certDir().resolve("root-ca.crt");
    }
    return new Target(u, ca);
  }

  /** A wildcard bind address is probed on loopback; a concrete one as given. */
  static URI readyUrl(String address, int port) {
    String host =
        switch (address) {
          case "0.0.0.0", "" -> "127.0.0.1";
          case "::", "[::]" -> "[::1]";
          default ->
              address.contains(":") && !address.startsWith("[") ? "[" + address + "]" : address;
        };
    return URI.create("https://" + host + ":" + port + "/healthz/ready");
  }

  static String probe(URI url, Path rootCaFile, Duration timeout) throws ProbeFailure {
    X509Certificate root = readRoot(rootCaFile);
    HttpURLConnection c;
    try {
      c = (HttpURLConnection) url.toURL().openConnection();
    } catch (IOException | IllegalArgumentException e) {
      throw new ProbeFailure("bad URL " + url + ": " + e.getMessage());
    }
    if (c instanceof HttpsURLConnection https) {
      https.setSSLSocketFactory(chainingTo(root).getSocketFactory());
      https.setHostnameVerifier((host, session) -> true);
    }
    c.setConnectTimeout((int) timeout.toMillis());
    c.setReadTimeout((int) timeout.toMillis());
    c.setInstanceFollowRedirects(false);
    c.setUseCaches(false);
    try {
      int status = c.getResponseCode();
      InputStream in = status >= 400 ? c.getErrorStream() : c.getInputStream();
      String body =
          in == null ? "" : new String(in.readNBytes(MAX_BODY), StandardCharsets.UTF_8).strip();
      if (status != 200) {
        throw new ProbeFailure(url + " answered " + status + (body.isEmpty() ? "" : ": " + body));
      }
      return body.isEmpty() ? "OK" : body;
    } catch (IOException e) {
      throw new ProbeFailure(url + ": " + e);
    } finally {
      c.disconnect();
    }
  }

  private static X509Certificate readRoot(Path file) throws ProbeFailure {
    try (InputStream in = Files.newInputStream(file)) {
      return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    } catch (NoSuchFileException e) {
      throw new ProbeFailure("no root CA at " + file + " (not bootstrapped yet?)");
    } catch (IOException | GeneralSecurityException | ClassCastException e) {
      throw new ProbeFailure("cannot read root CA " + file + ": " + e.getMessage());
    }
  }

  /**
   * Accepts a server chain whose every link verifies and whose last certificate {@code root}
   * signed.
   */
  private static SSLContext chainingTo(X509Certificate root) throws ProbeFailure {
    X509TrustManager tm =
        new X509TrustManager() {
          @Override
          public void checkServerTrusted(X509Certificate[] chain, String authType)
              throws java.security.cert.CertificateException {
            try {
              for (int i = 0; i < chain.length; i++) {
                chain[i].checkValidity();
                X509Certificate issuer = i + 1 < chain.length ? chain[i + 1] : root;
                if (chain[i].equals(root)) {
                  return;
                }
                chain[i].verify(issuer.getPublicKey());
              }
            } catch (GeneralSecurityException e) {
              throw new java.security.cert.CertificateException(
                  "server certificate does not chain to the root CA: " + e.getMessage(), e);
            }
          }

          @Override
          public void checkClientTrusted(X509Certificate[] chain, String authType)
              throws java.security.cert.CertificateException {
            throw new java.security.cert.CertificateException("client side only");
          }

          @Override
          public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[] {root};
          }
        };
    try {
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, new TrustManager[] {tm}, null);
      return ctx;
    } catch (GeneralSecurityException e) {
      throw new ProbeFailure("TLS unavailable: " + e.getMessage());
    }
  }

  /** Why the probe did not see a ready KMS; the message is the whole report. */
  static final class ProbeFailure extends Exception {
    private static final long serialVersionUID = 1L;

    ProbeFailure(String message) {
      super(message);
    }
  }
}
