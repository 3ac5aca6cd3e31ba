package dev.cvmkms.autheth.cli;

import dev.cvmkms.autheth.config.AuthEthConfig;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code auth-eth healthcheck}: the container's HEALTHCHECK without curl. Exits 0 only when {@code
 * GET /healthz/ready} answers 200 (metadata loaded, chain id as configured, not draining); 1
 * otherwise (Docker's "unhealthy"), with the reason on stderr. The address comes from the same
 * {@code HOST}/{@code PORT} environment {@code serve} reads.
 */
@Command(
    name = "healthcheck",
    mixinStandardHelpOptions = true,
    description =
        "Exit 0 when auth-eth at --url (default: from HOST and PORT) answers 200 on /healthz/ready.")
public final class HealthcheckCommand implements Callable<Integer> {
  private static final int MAX_BODY = 512;

  @Option(
      names = "--url",
      paramLabel = "URL",
      description = "Probe this URL instead (http://HOST:PORT/healthz/ready).")
  @Nullable URI url;

  @Option(
      names = "--timeout",
      defaultValue = "5000",
      paramLabel = "MS",
      description = "Connect and read timeout, each, in milliseconds. Default: ${DEFAULT-VALUE}")
  long timeoutMillis;

  private final Map<String, String> env;

  public HealthcheckCommand() {
    this(System.getenv());
  }

  HealthcheckCommand(Map<String, String> env) {
    this.env = env;
  }

  @Override
  public Integer call() {
    try {
      if (timeoutMillis < 1 || timeoutMillis > 120_000) {
        throw new IllegalArgumentException("--timeout must be between 1 and 120000 ms");
      }
      URI u = url != null ? url : readyUrl(AuthEthConfig.fromEnv(env));
      System.out.println(probe(u, (int) timeoutMillis));
      return 0;
    } catch (RuntimeException | IOException e) {
      System.err.println("auth-eth healthcheck: " + e.getMessage());
      return 1;
    }
  }

  /** A wildcard bind address is probed on loopback; a concrete one as given. */
  static URI readyUrl(AuthEthConfig cfg) {
    if (cfg.port() == 0) {
      throw new IllegalArgumentException("PORT=0 (ephemeral): give --url");
    }
    String host =
        switch (cfg.host()) {
          case "0.0.0.0" -> "127.0.0.1";
          case "::", "[::]" -> "[::1]";
          default ->
              cfg.host().contains(":") && !cfg.host().startsWith("[")
                  ? "[" + cfg.host() + "]"
                  : cfg.host();
        };
    return URI.create("http://" + host + ":" + cfg.port() + "/healthz/ready");
  }

  private static String probe(URI url, int timeoutMillis) throws IOException {
    HttpURLConnection c = (HttpURLConnection) url.toURL().openConnection();
    c.setConnectTimeout(timeoutMillis);
    c.setReadTimeout(timeoutMillis);
    c.setInstanceFollowRedirects(false);
    c.setUseCaches(false);
    try {
      int status = c.getResponseCode();
      InputStream in = status >= 400 ? c.getErrorStream() : c.getInputStream();
      String body =
          in == null ? "" : new String(in.readNBytes(MAX_BODY), StandardCharsets.UTF_8).strip();
      if (status != 200) {
        throw new IOException(url + " answered " + status + (body.isEmpty() ? "" : ": " + body));
      }
      return body;
    } catch (IOException e) {
      throw e.getMessage() != null && e.getMessage().startsWith(url.toString())
          ? e
          : new IOException(url + ": " + e, e);
    } finally {
      c.disconnect();
    }
  }
}
