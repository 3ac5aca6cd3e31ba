package dev.cvmkms.kms.cli;

import dev.cvmkms.kms.attestation.mock.MockTdx;
import dev.cvmkms.kms.service.KmsAttestation;
import java.time.Clock;
import org.slf4j.LoggerFactory;

/**
 * {@code kms dev}'s attestation: the deterministic mock TDX, producing the same structures a dstack
 * guest agent would, verified by the real verifier anchored at the mock root.
 */
final class DevAttestation {
  private DevAttestation() {}

  static KmsAttestation mock() {
    return mock(java.util.Optional.empty(), dev.cvmkms.kms.config.PccsConfig.defaults());
  }

  /**
   * With {@code pccs}, collateral for callers' quotes comes from that PCCS (e.g. a PCS stub serving
   * the mock PKI's collateral) through the production client and cache, as in {@code kms serve}.
   */
  static KmsAttestation mock(
      java.util.Optional<java.net.URI> pccs, dev.cvmkms.kms.config.PccsConfig pccsConfig) {
    Clock clock = Clock.systemUTC();
    MockTdx tdx = MockTdx.create(clock.instant());
    LoggerFactory.getLogger(DevAttestation.class)
        .warn("INSECURE: using the MOCK TDX attestation (kms dev); its quotes prove nothing");
    if (pccs.isEmpty()) {
      return new KmsAttestation(tdx, tdx.verifier(clock), clock);
    }
    var collateral =
        dev.cvmkms.kms.upstream.PccsClient.cached(
            pccs.get(),
            pccsConfig,
            io.micrometer.core.instrument.Metrics.globalRegistry,
            clock,
            dev.cvmkms.kms.KmsVersion.version());
    return new KmsAttestation(
        tdx,
        new dev.cvmkms.kms.attestation.AttestationVerifier(tdx.dcapVerifier(), collateral),
        clock);
  }
}
