package dev.cvmkms.kms.attestation.dcap;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.cvmkms.kms.attestation.AttestationException;
import dev.cvmkms.kms.attestation.AttestationException.Reason;
import dev.cvmkms.kms.attestation.Bytes;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Objects;

/**
 * Fetches the four collateral items from an Intel PCS or a PCCS (same paths and headers, spec
 * tdx-attestation §3.3) through one shared {@link HttpClient}. Every request has a timeout and
 * every body a size bound. TCB Info and QE Identity are kept as the exact served text, cut out of
 * the response with Jackson's offsets, never re-serialised. Wrap in {@link
 * CachingCollateralSource}.
 */
public final class PccsCollateralSource implements CollateralSource {
  /** PCS bodies are a few KiB; the PCK CRL of a busy CA is the largest at tens of KiB. */
  public static final int DEFAULT_MAX_BODY = 1 << 20;

  private static final JsonFactory JSON = new JsonFactory();
  static final String INTEL_PCS_HOST = "api.trustedservices.intel.com";

  /** Intel PCS has no rootcacrl route; the root CRL is at the CRL distribution point. */
  static final String INTEL_ROOT_CRL =
      "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der";

  private final String base;
  private final String rootCrlUrl;
  private final HttpClient client;
  private final Duration requestTimeout;
  private final int maxBody;

  /**
   * @param baseUrl e.g. {@code https://api.trustedservices.intel.com} or a PCCS root; a trailing
   *     {@code /sgx/certification/v4} or {@code /tdx/certification/v4} is accepted and dropped
   * @param client the process-wide client (see {@link #newHttpClient})
   */
  public PccsCollateralSource(
      URI baseUrl, HttpClient client, Duration requestTimeout, int maxBodyBytes) {
    String b = Objects.requireNonNull(baseUrl, "baseUrl").toString();
    while (b.endsWith("/")) {
      b = b.substring(0, b.length() - 1);
    }
    for (String suffix : new String[] {"/sgx/certification/v4", "/tdx/certification/v4"}) {
      if (b.endsWith(suffix)) {
        b = b.substring(0, b.length() - suffix.length());
      }
    }
    if (!b.startsWith("https://") && !b.startsWith("http://")) {
      throw new IllegalArgumentException("PCCS URL must be http(s)");
    }
    this.base = b;
    this.rootCrlUrl =
        INTEL_PCS_HOST.equals(URI.create(b).getHost())
            ? INTEL_ROOT_CRL
            : b + "/sgx/certification/v4/rootcacrl";
    this.client = Objects.requireNonNull(client, "client");
    this.requestTimeout = Objects.requireNonNull(requestTimeout, "requestTimeout");
    if (maxBodyBytes <= 0) {
      throw new IllegalArgumentException("maxBodyBytes must be positive");
    }
    this.maxBody = maxBodyBytes;
  }

  /** The one client a process should create for collateral: HTTP/1.1, connect timeout. */
  public static HttpClient newHttpClient(Duration connectTimeout) {
    return HttpClient.newBuilder()
        .connectTimeout(connectTimeout)
        .followRedirects(HttpClient.Redirect.NORMAL)
        .version(HttpClient.Version.HTTP_1_1)
        .build();
  }

  @Override
  public Collateral fetch(Key key) {
    Response pckCrl = get("/sgx/certification/v4/pckcrl?ca=" + key.pckCa() + "&encoding=der");
    Response tcb = get("/tdx/certification/v4/tcb?fmspc=" + key.fmspc());
    Response qe = get("/tdx/certification/v4/qe/identity");
    Response rootCrl = getUrl(rootCrlUrl, "/rootcacrl");
    String tcbBody = tcb.text();
    String qeBody = qe.text();
    return new Collateral(
        pckCrl.header("SGX-PCK-CRL-Issuer-Chain"),
        crlBytes(rootCrl.body),
        crlBytes(pckCrl.body),
        tcb.header("TCB-Info-Issuer-Chain", "SGX-TCB-Info-Issuer-Chain"),
        rawMember(tcbBody, "tcbInfo"),
        signature(tcbBody),
        qe.header("SGX-Enclave-Identity-Issuer-Chain"),
        rawMember(qeBody, "enclaveIdentity"),
        signature(qeBody));
  }

  private record Response(String path, java.net.http.HttpHeaders headers, byte[] body) {
    String text() {
      return new String(body, StandardCharsets.UTF_8);
    }

    String header(String... names) {
      for (String n : names) {
        var v = headers.firstValue(n);
        if (v.isPresent()) {
          return URLDecoder.decode(v.get(), StandardCharsets.UTF_8);
        }
      }
      throw unavailable(path + ": response lacks the " + names[0] + " header");
    }
  }

  private Response get(String path) {
    return getUrl(base + path, path);
  }

  private Response getUrl(String url, String path) {
    HttpRequest req = HttpRequest.newBuilder(URI.create(url)).timeout(requestTimeout).GET().build();
    try {
      HttpResponse<InputStream> resp = client.send(req, HttpResponse.BodyHandlers.ofInputStream());
      byte[] body;
      try (InputStream in = resp.body()) {
        body = in.readNBytes(maxBody + 1);
      }
      if (body.length > maxBody) {
        throw unavailable(path + ": response larger than " + maxBody + " bytes");
      }
      if (resp.statusCode() != 200) {
        throw unavailable(path + ": HTTP " + resp.statusCode());
      }
      return new Response(path, resp.headers(), body);
    } catch (HttpTimeoutException e) {
      throw unavailable(path + ": timed out after " + requestTimeout.toMillis() + " ms");
    } catch (IOException e) {
      throw unavailable(path + ": " + e.getClass().getSimpleName());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw unavailable(path + ": interrupted");
    }
  }

  private static AttestationException unavailable(String msg) {
    return new AttestationException(Reason.COLLATERAL_UNAVAILABLE, "PCCS " + msg);
  }

  /** DER, PEM, or the hex text PCCS serves for the root CA CRL. */
  static byte[] crlBytes(byte[] body) {
    if (body.length > 0 && body[0] == 0x30) {
      return body;
    }
    String t = new String(body, StandardCharsets.US_ASCII).trim();
    if (t.startsWith("-----BEGIN")) {
      String b64 = t.replaceAll("-----[A-Z0-9 ]+-----", "").replaceAll("\\s", "");
      try {
        return Base64.getDecoder().decode(b64);
      } catch (IllegalArgumentException e) {
        throw unavailable("CRL is not valid PEM");
      }
    }
    try {
      return Bytes.unhex(t, "CRL");
    } catch (AttestationException e) {
      throw unavailable("CRL is neither DER, PEM nor hex");
    }
  }

  /**
   * The exact text of a top-level member's object value: the bytes Intel signed. Uses the parser's
   * character offsets so whitespace and member order are preserved.
   */
  static String rawMember(String body, String name) {
    try (JsonParser p = JSON.createParser(body)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw unavailable("collateral body is not a JSON object");
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonToken t = p.nextToken();
        if (field.equals(name) && t == JsonToken.START_OBJECT) {
          int start = (int) p.currentTokenLocation().getCharOffset();
          p.skipChildren();
          int end = (int) p.currentLocation().getCharOffset();
          return body.substring(start, end);
        }
        p.skipChildren();
      }
      throw unavailable("collateral body has no " + name + " object");
    } catch (IOException | RuntimeException e) {
      if (e instanceof AttestationException ae) {
        throw ae;
      }
      throw unavailable("collateral body is not valid JSON");
    }
  }

  private static byte[] signature(String body) {
    try {
      var n = JsonFields.MAPPER.readTree(body);
      var sig = n == null ? null : n.get("signature");
      if (sig == null || !sig.isTextual()) {
        throw unavailable("collateral body has no signature");
      }
      return Bytes.unhex(sig.asText(), "signature");
    } catch (IOException | AttestationException e) {
      if (e instanceof AttestationException ae && ae.reason() == Reason.COLLATERAL_UNAVAILABLE) {
        throw ae;
      }
      throw unavailable("collateral signature is not hex");
    }
  }

  @Override
  public String toString() {
    return "PccsCollateralSource[" + base + "]";
  }
}
