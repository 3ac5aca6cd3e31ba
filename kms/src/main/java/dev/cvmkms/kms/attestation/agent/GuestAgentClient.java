package dev.cvmkms.kms.attestation.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cvmkms.kms.attestation.AttestationException;
import dev.cvmkms.kms.attestation.AttestationException.Reason;
import dev.cvmkms.kms.attestation.AttestationProvider;
import dev.cvmkms.kms.attestation.Bytes;
import dev.cvmkms.kms.attestation.QuoteProvider;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The dstack guest agent's API ({@code GetQuote}, {@code Attest}, {@code Info}) over its Unix
 * socket, or over HTTP for the simulator. Unlike a bare configfs quote, its answers carry the event
 * log and vm_config that verifiers need. Every call has a deadline and a size cap.
 */
public final class GuestAgentClient implements QuoteProvider, AttestationProvider {
  public static final String ENV = "DSTACK_AGENT_ADDRESS";
  public static final List<Path> DEFAULT_SOCKETS =
      List.of(Path.of("/var/run/dstack/dstack.sock"), Path.of("/var/run/dstack.sock"));
  static final int MAX_RESPONSE = 4 << 20;
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The agent's GetQuote answer. */
  @SuppressWarnings("ArrayRecordComponent") // wire view; never compared or hashed
  public record GuestQuote(byte[] quote, String eventLog, byte[] reportData, String vmConfig) {}

  /** How requests reach the agent; a resilient client wraps it (see {@link #through}). */
  @FunctionalInterface
  public interface Transport {
    /** POSTs JSON and returns the 200 body; anything else is an IOException. */
    byte[] post(String path, byte[] json) throws IOException;
  }

  private final Transport transport;
  private final String where;

  private GuestAgentClient(Transport transport, String where) {
    this.transport = transport;
    this.where = where;
  }

  /**
   * The same agent reached through {@code wrap} (deadline, retries, breaker and metrics added by
   * the caller's outbound client).
   */
  public GuestAgentClient through(java.util.function.UnaryOperator<Transport> wrap) {
    return new GuestAgentClient(wrap.apply(transport), where);
  }

  /** Over a Unix socket. */
  public static GuestAgentClient unix(Path socket, Duration timeout) {
    Objects.requireNonNull(socket, "socket");
    return new GuestAgentClient(
        (path, json) -> {
          UnixHttp.Response r = UnixHttp.post(socket, path, json, timeout, MAX_RESPONSE);
          if (r.status() != 200) {
            throw new IOException("HTTP " + r.status() + ": " + snippet(r.body()));
          }
          return r.body();
        },
        "unix:" + socket);
  }

  /** Over HTTP (the dstack simulator), with the caller's shared client. */
  public static GuestAgentClient http(URI base, HttpClient client, Duration timeout) {
    String b = base.toString().replaceAll("/+$", "");
    return new GuestAgentClient(
        (path, json) -> {
          HttpRequest req =
              HttpRequest.newBuilder(URI.create(b + path))
                  .timeout(timeout)
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofByteArray(json))
                  .build();
          try {
            HttpResponse<java.io.InputStream> r =
                client.send(req, HttpResponse.BodyHandlers.ofInputStream());
            byte[] body;
            try (var in = r.body()) {
              body = in.readNBytes(MAX_RESPONSE + 1);
            }
            if (body.length > MAX_RESPONSE) {
              throw new IOException("response larger than " + MAX_RESPONSE + " bytes");
            }
            if (r.statusCode() != 200) {
              throw new IOException("HTTP " + r.statusCode() + ": " + snippet(body));
            }
            return body;
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
          }
        },
        b);
  }

  /**
   * {@code DSTACK_AGENT_ADDRESS} (a socket path, {@code unix:PATH}, or an http(s) URL), else the
   * first of {@code /var/run/dstack/dstack.sock} and {@code /var/run/dstack.sock} that exists.
   */
  public static GuestAgentClient fromEnvironment(
      Map<String, String> env, HttpClient http, Duration timeout) {
    String a = env.get(ENV);
    if (a != null && !a.isBlank()) {
      a = a.trim();
      if (a.startsWith("http://") || a.startsWith("https://")) {
        return http(URI.create(a), http, timeout);
      }
      return unix(Path.of(a.startsWith("unix:") ? a.substring(5) : a), timeout);
    }
    for (Path p : DEFAULT_SOCKETS) {
      if (Files.exists(p)) {
        return unix(p, timeout);
      }
    }
    throw new AttestationException(
        Reason.QUOTE_UNAVAILABLE,
        "no dstack guest agent: set " + ENV + " or mount /var/run/dstack.sock");
  }

  private static String snippet(byte[] body) {
    String s = new String(body, 0, Math.min(body.length, 200), StandardCharsets.UTF_8);
    return s.replaceAll("[\\r\\n]+", " ");
  }

  private JsonNode call(String path, byte[] reportData) {
    QuoteProvider.requireReportData(reportData);
    byte[] req =
        ("{\"report_data\":\"" + Bytes.hex(reportData) + "\"}").getBytes(StandardCharsets.UTF_8);
    try {
      JsonNode n = JSON.readTree(transport.post(path, req));
      if (n == null || !n.isObject()) {
        throw new IOException("answer is not a JSON object");
      }
      return n;
    } catch (IOException e) {
      throw new AttestationException(
          Reason.QUOTE_UNAVAILABLE, "guest agent " + where + path + ": " + e.getMessage());
    }
  }

  private byte[] hexField(JsonNode n, String f, String path) {
    JsonNode v = n.get(f);
    if (v == null || !v.isTextual()) {
      throw new AttestationException(
          Reason.QUOTE_UNAVAILABLE, "guest agent " + path + " answer lacks " + f);
    }
    try {
      return Bytes.unhex(v.asText(), f);
    } catch (AttestationException e) {
      throw new AttestationException(
          Reason.QUOTE_UNAVAILABLE, "guest agent " + path + ": " + f + " is not hex");
    }
  }

  public GuestQuote getQuote(byte[] reportData) {
    JsonNode n = call("/GetQuote", reportData);
    return new GuestQuote(
        hexField(n, "quote", "/GetQuote"),
        n.path("event_log").asText(""),
        n.has("report_data") ? hexField(n, "report_data", "/GetQuote") : reportData.clone(),
        n.path("vm_config").asText(""));
  }

  @Override
  public byte[] quote(byte[] reportData) {
    return getQuote(reportData).quote();
  }

  @Override
  public byte[] versionedAttestation(byte[] reportData) {
    return hexField(call("/Attest", reportData), "attestation", "/Attest");
  }

  @Override
  public String name() {
    return "agent";
  }

  @Override
  public String toString() {
    return "GuestAgentClient[" + where + "]";
  }
}
