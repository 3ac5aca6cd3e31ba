package dev.cvmkms.kms.keys.csr;

import dev.cvmkms.kms.attestation.ratls.ScaleException;
import dev.cvmkms.kms.attestation.ratls.ScaleReader;
import dev.cvmkms.kms.attestation.ratls.ScaleWriter;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * dstack's SCALE CSRs ({@code CertSigningRequestV1/V2} in {@code ra-tls/src/cert.rs}; spec §10.8)
 * and the SignCert step that decodes and verifies them (§4.6 step 2).
 *
 * <p>The signature covers the SCALE encoding of the decoded struct, as upstream re-encodes it
 * before verifying. Decoding is canonical, so for V2 that is the received bytes; for V1, bytes
 * after the struct are ignored and not signed, as upstream's {@code decode} ignores them.
 */
public final class ScaleCsr {
  public static final String CONFIRM = "please sign cert:";

  /** dstack's {@code MAX_ATTESTATION_BYTES}. */
  public static final int MAX_ATTESTATION_BYTES = 10 * 1024 * 1024;

  /** Whole-CSR cap: the attestation plus generous room for the other fields. */
  public static final int MAX_CSR_BYTES = MAX_ATTESTATION_BYTES + 1024 * 1024;

  // Field caps. Real CSRs are far smaller (a P-256 SPKI is 91 bytes, a TDX quote about 5 KiB);
  // the caps bound allocation and object counts for hostile input.
  static final int MAX_CONFIRM = 64;
  static final int MAX_PUBKEY = 4096;
  static final int MAX_TEXT = 64 * 1024;
  static final int MAX_SANS = 1024;
  static final int MAX_QUOTE = 1024 * 1024;
  static final int MAX_EVENT_LOG = MAX_ATTESTATION_BYTES;

  private ScaleCsr() {}

  /**
   * SignCert's CSR step: decode per {@code apiVersion} (1 or 2), then verify the signature and the
   * confirm word. Errors carry upstream's messages.
   */
  public static CertSigningRequest decodeAndVerify(int apiVersion, byte[] csr, byte[] signature)
      throws CsrException {
    CertSigningRequest request = decode(apiVersion, csr);
    verify(request, signature);
    return request;
  }

  /** Decodes a V1 or V2 CSR; any other version is {@code Unsupported API version: N}. */
  public static CertSigningRequest decode(int apiVersion, byte[] csr) throws CsrException {
    return switch (apiVersion) {
      case 1 -> decodeV1(csr);
      case 2 -> decodeV2(csr);
      default ->
          throw new CsrException(
              "Unsupported API version: " + Integer.toUnsignedString(apiVersion));
    };
  }

  /** {@code CertSigningRequestV1}: confirm, pubkey, CertConfig, quote, event_log. */
  public static CertSigningRequest decodeV1(byte[] csr) throws CsrException {
    requireSize(csr);
    try {
      ScaleReader in = new ScaleReader(csr);
      String confirm = in.readString(MAX_CONFIRM, "confirm");
      byte[] pubkey = in.readBytes(MAX_PUBKEY, "pubkey");
      CertConfig config = readConfig(in, false);
      byte[] quote = in.readBytes(MAX_QUOTE, "quote");
      byte[] eventLog = in.readBytes(MAX_EVENT_LOG, "event_log");
      return new CertSigningRequest(
          confirm, pubkey, config, new CsrAttestation.LegacyTdx(quote, eventLog));
    } catch (ScaleException e) {
      throw parseFailure(e);
    }
  }

  /**
   * {@code CertSigningRequestV2}: confirm, pubkey, CertConfigV2, then the attestation to the end.
   */
  public static CertSigningRequest decodeV2(byte[] csr) throws CsrException {
    requireSize(csr);
    try {
      ScaleReader in = new ScaleReader(csr);
      String confirm = in.readString(MAX_CONFIRM, "confirm");
      byte[] pubkey = in.readBytes(MAX_PUBKEY, "pubkey");
      CertConfig config = readConfig(in, true);
      return new CertSigningRequest(confirm, pubkey, config, readAttestation(in));
    } catch (ScaleException e) {
      throw parseFailure(e);
    }
  }

  /**
   * Verifies {@code signature} (ASN.1 DER ECDSA P-256/SHA-256) over {@link
   * #encode(CertSigningRequest)} with the CSR's own key, then checks the confirm word, in
   * upstream's order.
   */
  public static void verify(CertSigningRequest csr, byte[] signature) throws CsrException {
    CsrSignature.verify(csr.pubkey(), encode(csr), signature);
    if (!CONFIRM.equals(csr.confirm())) {
      throw CsrException.signature("Invalid confirm word");
    }
  }

  /** The SCALE encoding of the CSR in its own version's layout (what the signature covers). */
  public static byte[] encode(CertSigningRequest csr) {
    ScaleWriter out = new ScaleWriter().string(csr.confirm()).bytes(csr.pubkey());
    CertConfig config = csr.config();
    out.option(config.orgName(), ScaleWriter::string)
        .string(config.subject())
        .vec(config.subjectAltNames(), ScaleWriter::string)
        .bool(config.usageServerAuth())
        .bool(config.usageClientAuth())
        .bool(config.extQuote());
    switch (csr.attestation()) {
      case CsrAttestation.LegacyTdx legacy -> out.bytes(legacy.quote()).bytes(legacy.eventLog());
      case CsrAttestation.Versioned versioned ->
          out.bool(config.extAppInfo())
              .optionalU64(config.notBefore())
              .optionalU64(config.notAfter())
              .raw(versioned.bytes());
    }
    return out.toByteArray();
  }

  private static CertConfig readConfig(ScaleReader in, boolean v2) throws ScaleException {
    Optional<String> orgName = in.readOption(r -> r.readString(MAX_TEXT, "org_name"), "org_name");
    String subject = in.readString(MAX_TEXT, "subject");
    List<String> sans =
        in.readVec(MAX_SANS, r -> r.readString(MAX_TEXT, "subject_alt_name"), "subject_alt_names");
    boolean serverAuth = in.readBool();
    boolean clientAuth = in.readBool();
    boolean extQuote = in.readBool();
    if (!v2) {
      return new CertConfig(
          orgName,
          subject,
          sans,
          serverAuth,
          clientAuth,
          extQuote,
          false,
          OptionalLong.empty(),
          OptionalLong.empty());
    }
    boolean extAppInfo = in.readBool();
    OptionalLong notBefore = readUnixSeconds(in, "not_before");
    OptionalLong notAfter = readUnixSeconds(in, "not_after");
    return new CertConfig(
        orgName, subject, sans, serverAuth, clientAuth, extQuote, extAppInfo, notBefore, notAfter);
  }

  private static OptionalLong readUnixSeconds(ScaleReader in, String what) throws ScaleException {
    int at = in.position();
    OptionalLong value = in.readOptionalU64(what);
    if (value.isPresent() && value.getAsLong() < 0) {
      throw new ScaleException(what + ": out of range (at byte " + at + ")");
    }
    return value;
  }

  private static CsrAttestation readAttestation(ScaleReader in) throws ScaleException {
    if (in.remaining() > MAX_ATTESTATION_BYTES) {
      throw new ScaleException("attestation bytes exceed maximum allowed size");
    }
    if (in.remaining() == 0) {
      throw new ScaleException("Empty attestation bytes");
    }
    byte[] bytes = in.readRemaining();
    int first = bytes[0] & 0xff;
    boolean v0 = first == 0x00;
    boolean msgpackMap = (first >= 0x80 && first <= 0x8f) || first == 0xde || first == 0xdf;
    if (!v0 && !msgpackMap) {
      throw new ScaleException("Unknown attestation wire format");
    }
    return new CsrAttestation.Versioned(bytes);
  }

  private static CsrException parseFailure(ScaleException e) {
    // Every ScaleException is made with a message; the fallback only satisfies getMessage()'s type.
    return CsrException.parse(Objects.requireNonNullElse(e.getMessage(), "malformed SCALE"));
  }

  private static void requireSize(byte[] csr) throws CsrException {
    if (csr.length > MAX_CSR_BYTES) {
      throw CsrException.parse(
          "csr is " + csr.length + " bytes, above the limit of " + MAX_CSR_BYTES);
    }
  }
}
