package dev.cvmkms.kms.keys;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * What a certificate says, in dstack's terms (rcgen {@code CertificateParams} as {@code
 * CertRequest::into_cert_params} fills them, spec §8.3). {@link CertificateIssuer} turns it into
 * DER with dstack's extension order and encodings.
 *
 * @param org optional {@code O=} value, written before CN
 * @param commonName {@code CN=} value
 * @param altNames SAN entries; IP literals become iPAddress, others dNSName; empty = no SAN
 * @param caPathLen present for a CA certificate (adds keyCertSign/cRLSign, SKI, BasicConstraints)
 * @param serverAuth adds EKU serverAuth
 * @param clientAuth adds EKU clientAuth
 * @param customExtensions dstack extensions in order, each non-critical and double-wrapped
 * @param notBefore override of the 1975-01-01 default
 * @param notAfter override of the now + 3650 days default
 */
public record CertProfile(
    Optional<String> org,
    String commonName,
    List<String> altNames,
    OptionalInt caPathLen,
    boolean serverAuth,
    boolean clientAuth,
    List<CustomExtension> customExtensions,
    Optional<Instant> notBefore,
    Optional<Instant> notAfter) {

  public CertProfile {
    Objects.requireNonNull(org, "org");
    Objects.requireNonNull(commonName, "commonName");
    altNames = List.copyOf(altNames);
    Objects.requireNonNull(caPathLen, "caPathLen");
    customExtensions = List.copyOf(customExtensions);
    Objects.requireNonNull(notBefore, "notBefore");
    Objects.requireNonNull(notAfter, "notAfter");
  }

  /** A self-signed-style CA profile with {@code O=<org>, CN=<cn>}. */
  public static CertProfile ca(String org, String commonName, int pathLen) {
    return new CertProfile(
        Optional.of(org),
        commonName,
        List.of(),
        OptionalInt.of(pathLen),
        false,
        false,
        List.of(),
        Optional.empty(),
        Optional.empty());
  }

  /** A leaf profile with {@code CN=<cn>} and no O. */
  public static CertProfile leaf(
      String commonName, List<String> altNames, List<CustomExtension> customExtensions) {
    return new CertProfile(
        Optional.empty(),
        commonName,
        altNames,
        OptionalInt.empty(),
        false,
        false,
        customExtensions,
        Optional.empty(),
        Optional.empty());
  }

  /** One dstack custom extension: its OID and raw content (wrapped in OCTET STRING on output). */
  @SuppressWarnings("ArrayRecordComponent") // certificate builder input; never compared or hashed
  public record CustomExtension(String oid, byte[] content) {
    public CustomExtension {
      Objects.requireNonNull(oid, "oid");
      content = content.clone();
    }

    @Override
    public byte[] content() {
      return content.clone();
    }

    @Override
    public String toString() {
      return "CustomExtension[" + oid + ", " + content.length + " bytes]";
    }
  }
}
