package dev.cvmkms.kms.keys.csr;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The certificate a CSR asks for ({@code CertConfigV2}; a V1 {@code CertConfig} becomes this with
 * {@code extAppInfo=false} and no validity overrides, as upstream converts it).
 *
 * @param orgName {@code O=} before {@code CN=} if present
 * @param subject the {@code CN}
 * @param subjectAltNames SAN strings (IP literals become iPAddress entries when issued)
 * @param extQuote embed the (stripped) attestation in the leaf
 * @param extAppInfo embed the app info (V2 only)
 * @param notBefore Unix seconds (V2 only)
 * @param notAfter Unix seconds (V2 only)
 */
public record CertConfig(
    Optional<String> orgName,
    String subject,
    List<String> subjectAltNames,
    boolean usageServerAuth,
    boolean usageClientAuth,
    boolean extQuote,
    boolean extAppInfo,
    OptionalLong notBefore,
    OptionalLong notAfter) {

  public CertConfig {
    Objects.requireNonNull(orgName, "orgName");
    Objects.requireNonNull(subject, "subject");
    subjectAltNames = List.copyOf(subjectAltNames);
    Objects.requireNonNull(notBefore, "notBefore");
    Objects.requireNonNull(notAfter, "notAfter");
  }

  /** True if the config can be expressed as a V1 {@code CertConfig}. */
  public boolean fitsV1() {
    return !extAppInfo && notBefore.isEmpty() && notAfter.isEmpty();
  }
}
