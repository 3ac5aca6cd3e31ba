package dev.cvmkms.kms;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real {@code kms.jar} (kms dev) with short listener deadlines from the environment, under a
 * file descriptor limit of 1,024: TLS renegotiation refused; a flood of idle connections from one
 * address cut within the deadlines with the fd count bounded, while a client from another address
 * is served. Conditions are awaited (bounded), never timed.
 */
class ListenerLimitsIT {
  private static final Duration READY = Duration.ofSeconds(90);
  private static final Duration AWAIT = Duration.ofSeconds(90);

  @TempDir Path tmp;

  private KmsProcess start(Path state, int port) throws IOException {
    List<String> wrapper =
        Files.isExecutable(Path.of("/usr/bin/prlimit"))
            ? List.of("/usr/bin/prlimit", "--nofile=1024:1024", "--")
            : List.of();
    return KmsProcess.start(
        tmp,
        port,
        Map.of(
            "KMS__LIMITS__HEADER_TIMEOUT", "1500ms",
            "KMS__LIMITS__BODY_TIMEOUT", "2s",
            "KMS__LIMITS__MAX_CONNECTIONS_PER_ADDRESS", "50"),
        wrapper,
        "dev",
        "--state-dir",
        state.toString(),
        "--port",
        "" + port);
  }

  private static SSLSocket tls12(int port) throws Exception {
    SSLContext ctx = SSLContext.getInstance("TLSv1.2");
    ctx.init(null, new TrustManager[] {new TrustAll()}, null);
    SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", port);
    s.setEnabledProtocols(new String[] {"TLSv1.2"}); // TLS 1.3 has no renegotiation at all
    s.setSoTimeout(30_000);
    return s;
  }

  @Test
  void renegotiationRefused_idleFloodCutWithinDeadlines_fdsBounded_politeClientServed()
      throws Exception {
    Path state = tmp.resolve("state");
    Path rootCa = state.resolve("root-ca.crt");
    int port = KmsProcess.freePort();
    try (KmsProcess kms = start(state, port)) {
      kms.awaitReady(rootCa, READY);
      // The polite client comes from another address than the flood (127.0.0.1), whose
      // connections fill that address's cap at accept time, silent ones included.
      HttpClient http = KmsProcess.client(rootCa, InetAddress.getByName("127.0.0.2"));

      // Client-initiated renegotiation: the first handshake works, the second is refused.
      try (SSLSocket s = tls12(port)) {
        s.startHandshake();
        assertThat(s.getSession().getProtocol()).isEqualTo("TLSv1.2");
        assertThatThrownBy(
                () -> {
                  s.startHandshake();
                  s.getOutputStream()
                      .write(
                          "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
                              .getBytes(StandardCharsets.US_ASCII));
                  s.getOutputStream().flush();
                  if (s.getInputStream().read() < 0) {
                    throw new IOException("closed");
                  }
                })
            .isInstanceOf(IOException.class);
      }

      long pid = kms.process().pid();
      int baseline = fds(pid);
      // From 127.0.0.1: 100 connections that finish the handshake and then send nothing (the
      // first 50 fill the address's cap and are cut by the head deadline), then 600 idle TCP
      // connections that never start TLS (refused at accept while the cap is full).
      List<Socket> flood = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        SSLSocket s = tls12(port);
        try {
          s.startHandshake();
        } catch (IOException e) {
          // refused at once by the per-address cap: fine
        }
        flood.add(s);
      }
      for (int i = 0; i < 600; i++) {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 10_000);
        flood.add(s);
      }
      try {
        // Another address is served meanwhile.
        HttpResponse<String> health =
            http.send(kms.get("/healthz/live"), HttpResponse.BodyHandlers.ofString());
        assertThat(health.statusCode()).isEqualTo(200);
        // Every flood connection is cut by the server, and the fds come back down.
        await().atMost(AWAIT).until(() -> flood.stream().allMatch(ListenerLimitsIT::closedByPeer));
        await().atMost(AWAIT).until(() -> fds(pid) <= baseline + 20);
        assertThat(
                http.send(kms.get("/healthz/ready"), HttpResponse.BodyHandlers.ofString())
                    .statusCode())
            .isEqualTo(200);
        String metrics =
            http.send(kms.get("/metrics"), HttpResponse.BodyHandlers.ofString()).body();
        assertThat(metrics)
            .containsPattern(
                "kms_http_limited_total\\{cause=\"header_timeout\",listener=\"rpc\"} [1-9]")
            .containsPattern(
                "kms_http_limited_total\\{cause=\"too_many_from_address\",listener=\"rpc\"} [1-9]");
        assertThat(kms.log()).doesNotContain("Too many open files");
      } finally {
        for (Socket s : flood) {
          s.close();
        }
      }
    }
  }

  private static int fds(long pid) {
    String[] list = Path.of("/proc", "" + pid, "fd").toFile().list();
    return list == null ? -1 : list.length;
  }

  private static boolean closedByPeer(Socket s) {
    try {
      s.setSoTimeout(1);
      InputStream in = s.getInputStream();
      byte[] buf = new byte[512];
      for (int i = 0; i < 16; i++) {
        if (in.read(buf) < 0) {
          return true;
        }
      }
      return false;
    } catch (java.net.SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true;
    }
  }

  private static final class TrustAll implements X509TrustManager {
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
