package dev.cvmkms.kms.attestation.mock;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.cvmkms.kms.attestation.Bytes;
import dev.cvmkms.kms.attestation.dcap.Collateral;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An HTTP stub shaped like Intel PCS / a PCCS (same paths, same URL-encoded issuer-chain headers,
 * hex root CRL as PCCS serves it), backed by the mock PKI, on 127.0.0.1 and an ephemeral port. It
 * exercises the real {@link dev.cvmkms.kms.attestation.dcap.PccsCollateralSource}; faults can be
 * injected (HTTP status, delay). Like dstack's mock PCCS it has no signing endpoint.
 */
public final class PcsStub implements AutoCloseable {
  private final HttpServer server;
  private volatile Collateral collateral;
  private volatile String fmspc;
  private volatile int failStatus;
  private volatile Duration delay = Duration.ZERO;
  private final Map<String, AtomicInteger> hits = new ConcurrentHashMap<>();

  private PcsStub(HttpServer server, Collateral collateral, String fmspc) {
    this.server = server;
    this.collateral = collateral;
    this.fmspc = fmspc;
  }

  public static PcsStub start(MockTdxPki pki, MockCollateralSpec spec) throws IOException {
    HttpServer s =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    PcsStub stub = new PcsStub(s, pki.collateral(spec), spec.fmspc());
    s.createContext("/", stub::handle);
    s.setExecutor(
        Executors.newFixedThreadPool(
            2,
            r -> {
              Thread t = new Thread(r, "pcs-stub");
              t.setDaemon(true);
              return t;
            }));
    s.start();
    return stub;
  }

  public URI baseUri() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  /** Serve a different bundle from now on (e.g. re-issued collateral). */
  public void serve(MockTdxPki pki, MockCollateralSpec spec) {
    this.collateral = pki.collateral(spec);
    this.fmspc = spec.fmspc();
  }

  /** Answer every request with this status (0 to stop failing). */
  public void failWith(int status) {
    this.failStatus = status;
  }

  public void delay(Duration d) {
    this.delay = d;
  }

  /** Requests served per path (without query). */
  public int hits(String path) {
    AtomicInteger n = hits.get(path);
    return n == null ? 0 : n.get();
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      String path = ex.getRequestURI().getPath();
      String query = ex.getRequestURI().getQuery() == null ? "" : ex.getRequestURI().getQuery();
      hits.computeIfAbsent(path, k -> new AtomicInteger()).incrementAndGet();
      if (!delay.isZero()) {
        try {
          Thread.sleep(delay.toMillis());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
      if (failStatus != 0) {
        send(ex, failStatus, "text/plain", "injected failure".getBytes(StandardCharsets.UTF_8));
        return;
      }
      Collateral c = collateral;
      switch (path) {
        case "/sgx/certification/v4/pckcrl" -> {
          if (!query.contains("ca=platform")) {
            send(ex, 400, "text/plain", new byte[0]);
            return;
          }
          ex.getResponseHeaders().add("SGX-PCK-CRL-Issuer-Chain", enc(c.pckCrlIssuerChain()));
          send(ex, 200, "application/pkix-crl", c.pckCrl());
        }
        case "/sgx/certification/v4/rootcacrl" ->
            send(
                ex,
                200,
                "text/plain",
                Bytes.hex(c.rootCaCrl()).getBytes(StandardCharsets.US_ASCII));
        case "/tdx/certification/v4/tcb" -> {
          if (!query
              .toLowerCase(java.util.Locale.ROOT)
              .contains("fmspc=" + fmspc.toLowerCase(java.util.Locale.ROOT))) {
            send(ex, 404, "text/plain", new byte[0]);
            return;
          }
          ex.getResponseHeaders().add("TCB-Info-Issuer-Chain", enc(c.tcbInfoIssuerChain()));
          String body =
              "{\"tcbInfo\":"
                  + c.tcbInfoJson()
                  + ",\"signature\":\""
                  + Bytes.hex(c.tcbInfoSignature())
                  + "\"}";
          send(ex, 200, "application/json", body.getBytes(StandardCharsets.UTF_8));
        }
        case "/tdx/certification/v4/qe/identity" -> {
          ex.getResponseHeaders()
              .add("SGX-Enclave-Identity-Issuer-Chain", enc(c.qeIdentityIssuerChain()));
          String body =
              "{\"enclaveIdentity\":"
                  + c.qeIdentityJson()
                  + ",\"signature\":\""
                  + Bytes.hex(c.qeIdentitySignature())
                  + "\"}";
          send(ex, 200, "application/json", body.getBytes(StandardCharsets.UTF_8));
        }
        default -> send(ex, 404, "text/plain", new byte[0]);
      }
    }
  }

  private static String enc(String pem) {
    return URLEncoder.encode(pem, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static void send(HttpExchange ex, int status, String type, byte[] body)
      throws IOException {
    ex.getResponseHeaders().add("Content-Type", type);
    ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
    if (body.length > 0) {
      try (OutputStream o = ex.getResponseBody()) {
        o.write(body);
      }
    }
  }

  @Override
  public void close() {
    server.stop(0);
    ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
  }
}
