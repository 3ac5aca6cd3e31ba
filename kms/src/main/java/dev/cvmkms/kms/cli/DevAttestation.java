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
    Clock clock = Clock.systemUTC();
    MockTdx tdx = MockTdx.create(clock.instant());
    LoggerFactory.getLogger(DevAttestation.class)
        .warn("INSECURE: using the MOCK TDX attestation (kms dev); its quotes prove nothing");
    return new KmsAttestation(tdx, tdx.verifier(clock), clock);
  }
}
