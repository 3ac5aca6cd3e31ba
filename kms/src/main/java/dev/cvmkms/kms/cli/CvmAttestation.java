package dev.cvmkms.kms.cli;

import dev.cvmkms.kms.KmsVersion;
import dev.cvmkms.kms.attestation.AttestationVerifier;
import dev.cvmkms.kms.attestation.agent.GuestAgentClient;
import dev.cvmkms.kms.attestation.dcap.CollateralSource;
import dev.cvmkms.kms.attestation.dcap.DcapVerifier;
import dev.cvmkms.kms.attestation.dcap.TrustAnchor;
import dev.cvmkms.kms.config.KmsConfig;
import dev.cvmkms.kms.config.OutboundClientConfig;
import dev.cvmkms.kms.service.KmsAttestation;
import dev.cvmkms.kms.upstream.GuestAgentTransport;
import dev.cvmkms.kms.upstream.PccsClient;
import dev.cvmkms.kms.upstream.Timers;
import dev.cvmkms.kms.upstream.Upstream;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * {@code kms serve}'s attestation inside a CVM: the dstack guest agent for its own attestations,
 * and DCAP verification anchored at Intel's root (or a configured root, only with {@code
 * insecure_allow_external_trust_anchors}) with collateral from the PCCS, cached per FMSPC.
 */
final class CvmAttestation {
  static final URI INTEL_PCS = URI.create("https://api.trustedservices.intel.com");

  private CvmAttestation() {}

  static KmsAttestation fromConfig(KmsConfig config, Map<String, String> env) throws IOException {
    Clock clock = Clock.systemUTC();
    // The runtime adds its Prometheus registry to the global one, which forwards these meters.
    MeterRegistry meters = Metrics.globalRegistry;
    GuestAgentClient agent = guestAgent(env, config.attestation().guestAgent(), meters, clock);
    TrustAnchor anchor = TrustAnchor.intelSgxRoot();
    if (config.attestation().tdxRootCa().isPresent()) {
      Path root = config.attestation().tdxRootCa().get();
      anchor =
          TrustAnchor.fromConfig(
              Files.readString(root, StandardCharsets.UTF_8),
              config.attestation().insecureAllowExternalTrustAnchors());
    }
    CollateralSource collateral =
        PccsClient.cached(
            config.attestation().pccsUrl().orElse(INTEL_PCS),
            config.attestation().pccs(),
            meters,
            clock,
            KmsVersion.version());
    return new KmsAttestation(
        agent, new AttestationVerifier(new DcapVerifier(anchor), collateral), clock);
  }

  /** The guest agent behind its shared client ({@code [core.attestation.guest_agent]}). */
  static GuestAgentClient guestAgent(
      Map<String, String> env, OutboundClientConfig client, MeterRegistry meters, Clock clock) {
    Timers timers = Timers.daemon("kms-guest_agent-timer");
    Upstream upstream =
        new Upstream(
            GuestAgentTransport.UPSTREAM,
            client,
            meters,
            clock,
            () -> ThreadLocalRandom.current().nextDouble(),
            timers);
    HttpClient http =
        HttpClient.newBuilder()
            .connectTimeout(client.connectTimeout())
            .version(HttpClient.Version.HTTP_1_1)
            .build();
    return GuestAgentClient.fromEnvironment(env, http, client.attemptTimeout())
        .through(raw -> new GuestAgentTransport(raw, upstream, timers));
  }
}
