package dev.cvmkms.kms.attestation.ratls;

import dev.cvmkms.kms.attestation.AttestationException;
import dev.cvmkms.kms.attestation.AttestationException.Reason;
import dev.cvmkms.kms.attestation.Bytes;
import dev.cvmkms.kms.attestation.dcap.TdxQuote;
import dev.cvmkms.kms.attestation.eventlog.EventLogs;
import dev.cvmkms.kms.attestation.eventlog.TdxEvent;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.List;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.x509.Extension;
import org.jspecify.annotations.Nullable;

/**
 * dstack's RA-TLS certificate extensions (private enterprise number 62397). Each extension's
 * extnValue is the DER of an OCTET STRING wrapping the raw content, so readers unwrap twice.
 */
public final class RaTlsExtensions {
  public static final String TDX_QUOTE = "1.3.6.1.4.1.62397.1.1";
  public static final String EVENT_LOG = "1.3.6.1.4.1.62397.1.2";
  public static final String APP_ID = "1.3.6.1.4.1.62397.1.3";
  public static final String CERT_USAGE = "1.3.6.1.4.1.62397.1.4";
  public static final String ATTESTATION = "1.3.6.1.4.1.62397.1.8";
  public static final String APP_INFO = "1.3.6.1.4.1.62397.1.9";

  private static final byte[] RATLS_TAG = "ratls-cert:".getBytes(StandardCharsets.US_ASCII);

  private RaTlsExtensions() {}

  /** The raw content of a custom extension, or null if the certificate does not have it. */
  public static byte @Nullable [] content(X509Certificate cert, String oid) {
    return unwrap(cert.getExtensionValue(oid), oid);
  }

  /**
   * Unwraps the value {@link X509Certificate#getExtensionValue} returns (extnValue OCTET STRING,
   * then dstack's inner OCTET STRING). Null in, null out.
   */
  public static byte @Nullable [] unwrap(byte @Nullable [] extensionValue, String oid) {
    if (extensionValue == null) {
      return null;
    }
    try {
      byte[] inner = ASN1OctetString.getInstance(extensionValue).getOctets();
      return ASN1OctetString.getInstance(inner).getOctets();
    } catch (RuntimeException e) {
      throw AttestationException.malformed("extension " + oid + " is not a double OCTET STRING");
    }
  }

  /** A non-critical extension holding OCTET STRING(content), ready for a certificate builder. */
  public static Extension extension(String oid, byte[] content) {
    try {
      return new Extension(
          new ASN1ObjectIdentifier(oid), false, new DEROctetString(content).getEncoded());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The attestation extension (1.8) for a VersionedAttestation, stripped as dstack embeds it. */
  public static Extension attestationExtension(VersionedAttestation attestation) {
    return extension(ATTESTATION, attestation.stripped().encode());
  }

  /**
   * The attestation a certificate carries: 1.8 if present, else the legacy pair 1.1 (quote) + 1.2
   * (JSON event log); {@link Reason#NOT_ATTESTED} if neither.
   */
  public static VersionedAttestation attestation(X509Certificate cert) {
    byte[] v = content(cert, ATTESTATION);
    if (v != null) {
      return VersionedAttestation.decode(v);
    }
    byte[] quote = content(cert, TDX_QUOTE);
    if (quote == null) {
      throw new AttestationException(Reason.NOT_ATTESTED, "certificate carries no attestation");
    }
    byte[] log = content(cert, EVENT_LOG);
    if (log == null) {
      throw new AttestationException(
          Reason.EVENT_LOG_INVALID, "legacy RA-TLS certificate has a quote but no event log");
    }
    List<TdxEvent> events = EventLogs.parseJson(new String(log, StandardCharsets.UTF_8));
    TdxQuote parsed = TdxQuote.parse(quote);
    return new VersionedAttestation(
        0, quote, events, EventLogs.runtimeEvents(events), parsed.body().reportData(), "");
  }

  /** {@code SHA-512("ratls-cert:" ‖ SubjectPublicKeyInfo DER)}: what REPORTDATA must be. */
  public static byte[] reportData(byte[] spkiDer) {
    return Bytes.sha512(RATLS_TAG, spkiDer);
  }

  /** {@code SHA-512(tag ‖ ":" ‖ content)}, for the other dstack report-data tags. */
  public static byte[] reportData(String tag, byte[] content) {
    return Bytes.sha512((tag + ":").getBytes(StandardCharsets.UTF_8), content);
  }
}
