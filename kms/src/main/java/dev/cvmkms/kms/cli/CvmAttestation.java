package dev.cvmkms.kms.cli;

import dev.cvmkms.kms.attestation.AttestationVerifier;
import dev.cvmkms.kms.attestation.agent.GuestAgentClient;
import dev.cvmkms.kms.attestation.dcap.CachingCollateralSource;
import dev.cvmkms.kms.attestation.dcap.DcapVerifier;
import dev.cvmkms.kms.attestation.dcap.PccsCollateralSource;
import dev.cvmkms.kms.attestation.dcap.TrustAnchor;
import dev.cvmkms.kms.config.KmsConfig;
import dev.cvmkms.kms.service.KmsAttestation;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;

/**
 * {@code kms serve}'s attestation inside a CVM: the dstack guest agent for its own attestations,
 * and DCAP verification anchored at Intel's root (or a configured root, only with {@code
 * insecure_allow_external_trust_anchors}) with collateral from the PCCS, cached per FMSPC.
 */
final class CvmAttestation {
  static final URI INTEL_PCS = URI.create("https://api.trustedservices.intel.com");
  private static final Duration AGENT_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration PCCS_CONNECT = Duration.ofSeconds(5);
  private static final Duration PCCS_REQUEST = Duration.ofSeconds(10);

  private CvmAttestation() {}

  static KmsAttestation fromConfig(KmsConfig config, Map<String, String> env) throws IOException {
    Clock clock = Clock.systemUTC();
    var http = PccsCollateralSource.newHttpClient(PCCS_CONNECT);
    GuestAgentClient agent = GuestAgentClient.fromEnvironment(env, http, AGENT_TIMEOUT);
    TrustAnchor anchor = TrustAnchor.intelSgxRoot();
    if (config.attestation().tdxRootCa().isPresent()) {
      Path root = config.attestation().tdxRootCa().get();
      anchor =
          TrustAnchor.fromConfig(
              Files.readString(root, StandardCharsets.UTF_8),
              config.attestation().insecureAllowExternalTrustAnchors());
    }
    var pccs =
        new PccsCollateralSource(
            config.attestation().pccsUrl().orElse(INTEL_PCS),
            http,
            PCCS_REQUEST,
            PccsCollateralSource.DEFAULT_MAX_BODY);
    var collateral =
        new CachingCollateralSource(pccs, clock, CachingCollateralSource.MAX_AGE_LIMIT);
    return new KmsAttestation(
        agent, new AttestationVerifier(new DcapVerifier(anchor), collateral), clock);
  }
}
