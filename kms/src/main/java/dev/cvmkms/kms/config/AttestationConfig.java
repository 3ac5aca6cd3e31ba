package dev.cvmkms.kms.config;

import java.net.URI;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * {@code [core.attestation]}: where quote collateral comes from and which root it must chain to.
 *
 * @param insecureAllowExternalTrustAnchors allows {@code root_ca} overrides; replacing Intel's root
 *     lets whoever holds the replacement key forge quotes ({@code
 *     insecure_allow_external_trust_anchors})
 * @param pccsUrl collateral service; empty means the verifier's built-in default ({@code
 *     [core.attestation.urls] pccs})
 * @param tdxRootCa a file replacing Intel's SGX root CA ({@code [core.attestation.root_ca] tdx})
 */
public record AttestationConfig(
    boolean insecureAllowExternalTrustAnchors, Optional<URI> pccsUrl, Optional<Path> tdxRootCa) {
  public AttestationConfig {
    Objects.requireNonNull(pccsUrl, "pccsUrl");
    Objects.requireNonNull(tdxRootCa, "tdxRootCa");
    pccsUrl.ifPresent(u -> Checks.httpUrl("core.attestation.urls.pccs", u));
    if (tdxRootCa.isPresent() && !insecureAllowExternalTrustAnchors) {
      throw new ConfigException(
          "core.attestation.root_ca.tdx",
          "core.attestation.root_ca.tdx needs"
              + " core.attestation.insecure_allow_external_trust_anchors=true");
    }
  }

  /** Intel's root, the default PCCS, no overrides. */
  public static AttestationConfig defaults() {
    return new AttestationConfig(false, Optional.empty(), Optional.empty());
  }
}
