package dev.cvmkms.kms.keys;

import java.security.cert.X509Certificate;
import java.util.Optional;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Primitive;

/**
 * dstack's private certificate extensions (enterprise number 62397, spec §10.1). Each is
 * non-critical and its extnValue is the DER of an OCTET STRING around the raw content, so the wire
 * form is OCTET STRING(OCTET STRING(content)).
 */
public final class CertExtensions {
  public static final String TDX_QUOTE = "1.3.6.1.4.1.62397.1.1";
  public static final String EVENT_LOG = "1.3.6.1.4.1.62397.1.2";
  public static final String APP_ID = "1.3.6.1.4.1.62397.1.3";
  public static final String SPECIAL_USAGE = "1.3.6.1.4.1.62397.1.4";
  public static final String ATTESTATION = "1.3.6.1.4.1.62397.1.8";
  public static final String APP_INFO = "1.3.6.1.4.1.62397.1.9";

  /** Special-usage value of the KMS RPC certificate. */
  public static final String USAGE_KMS_RPC = "kms:rpc";

  private CertExtensions() {}

  /**
   * The raw content of a custom extension: the inner OCTET STRING's bytes. Empty if the certificate
   * has no such extension.
   *
   * @throws IllegalArgumentException if the extension is present but not an OCTET STRING
   */
  public static Optional<byte[]> content(X509Certificate cert, String oid) {
    // The JDK hands back extnValue itself, i.e. the outer OCTET STRING.
    byte[] outer = cert.getExtensionValue(oid);
    if (outer == null) {
      return Optional.empty();
    }
    try {
      byte[] extnValue = ASN1OctetString.getInstance(outer).getOctets();
      ASN1Primitive inner = ASN1Primitive.fromByteArray(extnValue);
      return Optional.of(ASN1OctetString.getInstance(inner).getOctets());
    } catch (java.io.IOException | RuntimeException e) {
      throw new IllegalArgumentException("extension " + oid + " is not an OCTET STRING", e);
    }
  }
}
