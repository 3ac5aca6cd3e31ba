package dev.cvmkms.kms.cli;

import dev.cvmkms.kms.KmsRuntime;
import dev.cvmkms.kms.attestation.mock.MockTdx;
import java.time.Instant;
import java.util.Optional;
import org.slf4j.LoggerFactory;

/**
 * {@code kms dev}'s attestation: the deterministic mock TDX, producing the same structures a dstack
 * guest agent would (the RPC certificate gets the stripped form, bootstrap-info the full one).
 */
final class DevAttestation {
  private DevAttestation() {}

  static KmsRuntime.Attesters mock() {
    MockTdx tdx = MockTdx.create(Instant.now());
    LoggerFactory.getLogger(DevAttestation.class)
        .warn("INSECURE: using the MOCK TDX attestation (kms dev); its quotes prove nothing");
    return new KmsRuntime.Attesters(
        Optional.of(rd -> tdx.attestation(rd).stripped().encode()),
        Optional.of(tdx::versionedAttestation));
  }
}
