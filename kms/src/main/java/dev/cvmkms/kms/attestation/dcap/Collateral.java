package dev.cvmkms.kms.attestation.dcap;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cvmkms.kms.attestation.AttestationException;
import dev.cvmkms.kms.attestation.AttestationException.Reason;
import dev.cvmkms.kms.attestation.Bytes;
import java.io.IOException;
import java.time.Instant;

/**
 * Everything besides the quote that DCAP verification needs, in dcap-qvl's {@code
 * QuoteCollateralV3} shape. {@code tcbInfoJson} and {@code qeIdentityJson} are the exact signed
 * texts and are never re-serialised. Instances are immutable and shared: the verifier remembers
 * which collateral objects it has already checked the signatures of.
 */
@SuppressWarnings("ArrayRecordComponent") // equals/hashCode below are identity
public record Collateral(
    String pckCrlIssuerChain,
    byte[] rootCaCrl,
    byte[] pckCrl,
    String tcbInfoIssuerChain,
    String tcbInfoJson,
    byte[] tcbInfoSignature,
    String qeIdentityIssuerChain,
    String qeIdentityJson,
    byte[] qeIdentitySignature) {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Reads the dcap-qvl collateral JSON (CRLs and signatures as hex). */
  public static Collateral fromJson(String json) {
    JsonNode n;
    try {
      n = JSON.readTree(json);
    } catch (IOException e) {
      throw new AttestationException(Reason.INVALID_COLLATERAL, "collateral is not JSON");
    }
    if (n == null || !n.isObject()) {
      throw new AttestationException(Reason.INVALID_COLLATERAL, "collateral is not a JSON object");
    }
    return new Collateral(
        text(n, "pck_crl_issuer_chain"),
        hex(n, "root_ca_crl"),
        hex(n, "pck_crl"),
        text(n, "tcb_info_issuer_chain"),
        text(n, "tcb_info"),
        hex(n, "tcb_info_signature"),
        text(n, "qe_identity_issuer_chain"),
        text(n, "qe_identity"),
        hex(n, "qe_identity_signature"));
  }

  private static String text(JsonNode n, String field) {
    JsonNode v = n.get(field);
    if (v == null || !v.isTextual()) {
      throw new AttestationException(Reason.INVALID_COLLATERAL, "collateral lacks " + field);
    }
    return v.asText();
  }

  private static byte[] hex(JsonNode n, String field) {
    try {
      return Bytes.unhex(text(n, field), field);
    } catch (AttestationException e) {
      throw new AttestationException(Reason.INVALID_COLLATERAL, "collateral " + field + " not hex");
    }
  }

  /** Writes the dcap-qvl collateral JSON. */
  public String toJson() {
    ObjectNode o = JSON.createObjectNode();
    o.put("pck_crl_issuer_chain", pckCrlIssuerChain);
    o.put("root_ca_crl", Bytes.hex(rootCaCrl));
    o.put("pck_crl", Bytes.hex(pckCrl));
    o.put("tcb_info_issuer_chain", tcbInfoIssuerChain);
    o.put("tcb_info", tcbInfoJson);
    o.put("tcb_info_signature", Bytes.hex(tcbInfoSignature));
    o.put("qe_identity_issuer_chain", qeIdentityIssuerChain);
    o.put("qe_identity", qeIdentityJson);
    o.put("qe_identity_signature", Bytes.hex(qeIdentitySignature));
    try {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(o);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The earliest {@code nextUpdate} of the TCB Info, QE Identity and both CRLs: past this instant
   * the bundle cannot verify anything, so caches must not serve it.
   */
  public Instant nextUpdate() {
    Instant t = TcbInfo.parse(tcbInfoJson).nextUpdate();
    Instant q = QeIdentity.parse(qeIdentityJson).nextUpdate();
    Instant min = t.isBefore(q) ? t : q;
    for (byte[] crl : new byte[][] {rootCaCrl, pckCrl}) {
      var next = Certs.parseCrl(crl, "CRL").getNextUpdate();
      if (next == null) {
        return Instant.EPOCH;
      }
      if (next.toInstant().isBefore(min)) {
        min = next.toInstant();
      }
    }
    return min;
  }

  // Records compare arrays by identity; identity is what the verifier's memo wants anyway.
  @Override
  public boolean equals(Object o) {
    return this == o;
  }

  @Override
  public int hashCode() {
    return System.identityHashCode(this);
  }

  @Override
  public String toString() {
    return "Collateral[tcbInfo=" + tcbInfoJson.length() + " chars]";
  }
}
