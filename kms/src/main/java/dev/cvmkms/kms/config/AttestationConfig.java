package dev.cvmkms.kms.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
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
 * @param pccs the collateral client and cache ({@code [core.attestation.pccs]})
 * @param guestAgent the guest agent client ({@code [core.attestation.guest_agent]})
 */
public record AttestationConfig(
    boolean insecureAllowExternalTrustAnchors,
    Optional<URI> pccsUrl,
    Optional<Path> tdxRootCa,
    PccsConfig pccs,
    OutboundClientConfig guestAgent) {
  public static final String GUEST_AGENT_TABLE = "core.attestation.guest_agent";

  /** With the default PCCS and guest agent clients. */
  public AttestationConfig(
      boolean insecureAllowExternalTrustAnchors, Optional<URI> pccsUrl, Optional<Path> tdxRootCa) {
    this(
        insecureAllowExternalTrustAnchors,
        pccsUrl,
        tdxRootCa,
        PccsConfig.defaults(),
        guestAgentDefaults());
  }

  /**
   * The agent is local but generating a quote takes time: 2 s connect, 10 s per attempt, 20 s in
   * total, 4 MiB answers.
   */
  public static OutboundClientConfig guestAgentDefaults() {
    return new OutboundClientConfig(
        GUEST_AGENT_TABLE,
        Duration.ofSeconds(2),
        Duration.ofSeconds(10),
        Duration.ofSeconds(20),
        4,
        4 * ByteSizes.MIB,
        2,
        5,
        Duration.ofSeconds(30));
  }

  public AttestationConfig {
    Objects.requireNonNull(pccsUrl, "pccsUrl");
    Objects.requireNonNull(tdxRootCa, "tdxRootCa");
    Objects.requireNonNull(pccs, "pccs");
    Objects.requireNonNull(guestAgent, "guestAgent");
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
