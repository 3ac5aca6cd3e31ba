package dev.cvmkms.kms.attestation.dcap;

import dev.cvmkms.kms.attestation.AttestationException;
import dev.cvmkms.kms.attestation.AttestationException.Reason;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A parsed Intel TDX DCAP quote, v4 or v5, with ECDSA-P256 signature data and certification data
 * type 6 (QE report) wrapping type 5 (PEM PCK chain). Parsing checks structure only; trust comes
 * from {@link DcapVerifier}. Trailing bytes after the signature data (real quotes carry zero
 * padding) are ignored and never part of {@link #signedRegion()}.
 */
@SuppressWarnings("ArrayRecordComponent") // a view of the quote's bytes; never compared or hashed
public record TdxQuote(
    byte[] raw,
    int version,
    int attestationKeyType,
    long teeType,
    byte[] qeVendorId,
    byte[] userData,
    int bodyType,
    int signedLength,
    TdReport body,
    byte[] signature,
    byte[] attestationKey,
    QeReport qeReport,
    byte[] qeReportSignature,
    byte[] qeAuthData,
    String pckChainPem) {

  public static final long TEE_TDX = 0x81;
  public static final int ATT_KEY_ECDSA_P256 = 2;
  public static final int BODY_TD10 = 2;
  public static final int BODY_TD15 = 3;
  static final int HEADER_SIZE = 48;

  /** dcap-qvl caps variable parts at 1 MiB; a TDX quote is a few KiB. */
  static final int MAX_QUOTE = 1 << 20;

  /** Parses a quote; any structural problem is an {@link AttestationException} (MALFORMED). */
  public static TdxQuote parse(byte[] bytes) {
    if (bytes == null || bytes.length < HEADER_SIZE) {
      throw AttestationException.malformed("quote shorter than its 48-byte header");
    }
    if (bytes.length > MAX_QUOTE) {
      throw AttestationException.malformed("quote larger than 1 MiB");
    }
    ByteReader r = new ByteReader(bytes, 0, bytes.length);
    int version = r.u16("header.version");
    int akType = r.u16("header.att_key_type");
    long tee = r.u32("header.tee_type");
    r.bytes(4, "header.reserved");
    byte[] vendor = r.bytes(16, "header.qe_vendor_id");
    byte[] userData = r.bytes(20, "header.user_data");
    if (version != 4 && version != 5) {
      throw new AttestationException(Reason.UNSUPPORTED, "quote version " + version);
    }
    if (tee != TEE_TDX) {
      throw new AttestationException(
          Reason.UNSUPPORTED, "TEE type 0x" + Long.toHexString(tee) + " is not TDX (0x81)");
    }
    if (akType != ATT_KEY_ECDSA_P256) {
      throw new AttestationException(
          Reason.UNSUPPORTED, "attestation key type " + akType + " (only 2, ECDSA-P256)");
    }
    int bodyType = BODY_TD10;
    if (version == 5) {
      bodyType = r.u16("body_descriptor.type");
      long bodySize = r.u32("body_descriptor.size");
      long want =
          switch (bodyType) {
            case BODY_TD10 -> TdReport.TD10_SIZE;
            case BODY_TD15 -> TdReport.TD15_SIZE;
            default ->
                throw new AttestationException(
                    Reason.UNSUPPORTED, "v5 body type " + bodyType + " is not a TD report");
          };
      if (bodySize != want) {
        throw AttestationException.malformed(
            "v5 body size " + bodySize + " does not match body type " + bodyType);
      }
    }
    TdReport body = TdReport.read(r, bodyType == BODY_TD15);
    int signedLength = r.position();
    int sigLen = r.length("signature_data_len");
    int end = r.position() + sigLen;
    ByteReader s = new ByteReader(bytes, r.position(), end);
    byte[] signature = s.bytes(64, "quote_signature");
    byte[] attKey = s.bytes(64, "attestation_key");
    int certType = s.u16("certification_data_type");
    if (certType != 6) {
      throw new AttestationException(
          Reason.UNSUPPORTED, "certification data type " + certType + " (need 6, QE report)");
    }
    int certSize = s.length("certification_data_size");
    ByteReader c = new ByteReader(bytes, s.position(), s.position() + certSize);
    byte[] qeRaw = c.bytes(QeReport.SIZE, "qe_report");
    byte[] qeSig = c.bytes(64, "qe_report_signature");
    int authLen = c.u16("qe_auth_data_size");
    byte[] auth = c.bytes(authLen, "qe_auth_data");
    int innerType = c.u16("pck_cert_data_type");
    if (innerType != 5) {
      throw new AttestationException(
          Reason.UNSUPPORTED,
          "PCK certification data type " + innerType + " (need 5, PEM chain in the quote)");
    }
    int innerSize = c.length("pck_cert_data_size");
    byte[] pem = c.bytes(innerSize, "pck_cert_chain");
    int pemLen = pem.length;
    while (pemLen > 0 && pem[pemLen - 1] == 0) {
      pemLen--; // the chain is NUL-terminated
    }
    for (int i = 0; i < pemLen; i++) {
      if (pem[i] < 0) {
        throw AttestationException.malformed("PCK chain is not ASCII PEM");
      }
    }
    return new TdxQuote(
        Arrays.copyOf(bytes, end),
        version,
        akType,
        tee,
        vendor,
        userData,
        bodyType,
        signedLength,
        body,
        signature,
        attKey,
        QeReport.parse(qeRaw),
        qeSig,
        auth,
        new String(pem, 0, pemLen, StandardCharsets.US_ASCII));
  }

  /** The bytes covered by the quote signature: header, v5 body descriptor, body. */
  public byte[] signedRegion() {
    return Arrays.copyOf(raw, signedLength);
  }

  /** Length of the quote proper, without trailing padding. */
  public int length() {
    return raw.length;
  }

  /** Absolute offset of REPORTDATA in the quote. */
  public int reportDataOffset() {
    return signedLength - (body.isTd15() ? 64 + 64 : 64);
  }
}
