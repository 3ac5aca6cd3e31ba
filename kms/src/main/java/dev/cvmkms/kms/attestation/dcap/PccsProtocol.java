package dev.cvmkms.kms.attestation.dcap;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.cvmkms.kms.attestation.AttestationException;
import dev.cvmkms.kms.attestation.AttestationException.Reason;
import dev.cvmkms.kms.attestation.Bytes;
import dev.cvmkms.kms.encoding.Pem;
import java.io.IOException;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The PCS/PCCS collateral protocol (spec tdx-attestation §3.3), without any transport: which four
 * GETs a key needs and how their answers become a {@link Collateral}. TCB Info and QE Identity are
 * kept as the exact served text, cut out of the response with Jackson's offsets, never
 * re-serialised. The HTTP client that runs the GETs lives outside this package ({@code
 * dev.cvmkms.kms.upstream.PccsClient}).
 */
public final class PccsProtocol {
  private static final JsonFactory JSON = new JsonFactory();
  static final String INTEL_PCS_HOST = "api.trustedservices.intel.com";

  /** Intel PCS has no rootcacrl route; the root CRL is at the CRL distribution point. */
  static final String INTEL_ROOT_CRL =
      "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der";

  /** One GET: the absolute URL and the path that names it in errors and logs. */
  public record Request(URI url, String path) {}

  /** A 200 answer: its headers (by lower-case name) and body. */
  public interface Answer {
    /** The first value of a header, or null. */
    @Nullable String header(String name);

    byte[] body();
  }

  private final String base;
  private final String rootCrlUrl;

  /**
   * @param baseUrl e.g. {@code https://api.trustedservices.intel.com} or a PCCS root; a trailing
   *     {@code /sgx/certification/v4} or {@code /tdx/certification/v4} is accepted and dropped
   */
  public PccsProtocol(URI baseUrl) {
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
  }

  /** The PCK CRL, TCB Info, QE Identity and root CA CRL requests, in that order. */
  public List<Request> requests(CollateralSource.Key key) {
    return List.of(
        request("/sgx/certification/v4/pckcrl?ca=" + key.pckCa() + "&encoding=der"),
        request("/tdx/certification/v4/tcb?fmspc=" + key.fmspc()),
        request("/tdx/certification/v4/qe/identity"),
        new Request(URI.create(rootCrlUrl), "/rootcacrl"));
  }

  private Request request(String path) {
    return new Request(URI.create(base + path), path.replaceAll("\\?.*", ""));
  }

  /** The bundle from the four answers of {@link #requests}, in the same order. */
  public Collateral assemble(List<? extends Answer> answers) {
    if (answers.size() != 4) {
      throw new IllegalArgumentException("four answers expected");
    }
    Answer pckCrl = answers.get(0);
    Answer tcb = answers.get(1);
    Answer qe = answers.get(2);
    Answer rootCrl = answers.get(3);
    String tcbBody = new String(tcb.body(), StandardCharsets.UTF_8);
    String qeBody = new String(qe.body(), StandardCharsets.UTF_8);
    return new Collateral(
        header(pckCrl, "pckcrl", "SGX-PCK-CRL-Issuer-Chain"),
        crlBytes(rootCrl.body()),
        crlBytes(pckCrl.body()),
        header(tcb, "tcb", "TCB-Info-Issuer-Chain", "SGX-TCB-Info-Issuer-Chain"),
        rawMember(tcbBody, "tcbInfo"),
        signature(tcbBody),
        header(qe, "qe/identity", "SGX-Enclave-Identity-Issuer-Chain"),
        rawMember(qeBody, "enclaveIdentity"),
        signature(qeBody));
  }

  /**
   * Checks one answer on its own (the index is its position in {@link #requests}), so that a
   * garbage answer fails the attempt that got it and counts against the upstream.
   */
  public void check(int index, Answer a) {
    switch (index) {
      case 0 -> {
        crlBytes(a.body());
        header(a, "pckcrl", "SGX-PCK-CRL-Issuer-Chain");
      }
      case 1 -> {
        String body = new String(a.body(), StandardCharsets.UTF_8);
        rawMember(body, "tcbInfo");
        signature(body);
        header(a, "tcb", "TCB-Info-Issuer-Chain", "SGX-TCB-Info-Issuer-Chain");
      }
      case 2 -> {
        String body = new String(a.body(), StandardCharsets.UTF_8);
        rawMember(body, "enclaveIdentity");
        signature(body);
        header(a, "qe/identity", "SGX-Enclave-Identity-Issuer-Chain");
      }
      case 3 -> crlBytes(a.body());
      default -> throw new IllegalArgumentException("no request " + index);
    }
  }

  private static String header(Answer a, String what, String... names) {
    for (String n : names) {
      String v = a.header(n);
      if (v != null) {
        try {
          return URLDecoder.decode(v, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
          throw unavailable(what + ": the " + n + " header is not URL-encoded");
        }
      }
    }
    throw unavailable(what + ": response lacks the " + names[0] + " header");
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
      try {
        return Pem.decode(t, "X509 CRL");
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
    return "PccsProtocol[" + base + "]";
  }
}
