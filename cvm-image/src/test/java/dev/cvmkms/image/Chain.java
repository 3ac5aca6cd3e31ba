package dev.cvmkms.image;

import dev.cvmkms.autheth.testing.Anvil;
import dev.cvmkms.autheth.testing.AuthEthJar;
import dev.cvmkms.autheth.testing.ChainFixture;
import dev.cvmkms.kms.attestation.BootInfo;
import dev.cvmkms.kms.attestation.mock.MockTdx;
import java.time.Instant;

/**
 * anvil as a child process with our contracts deployed through the auth-eth CLI; the mock TDX KMS
 * ({@code kms dev}) is allowed as a KMS, so its self-authorization passes.
 */
record Chain(Anvil anvil, ChainFixture fixture, BootInfo mockKms) implements AutoCloseable {
  static Chain start() throws Exception {
    Anvil anvil = Anvil.start();
    try {
      ChainFixture fixture = ChainFixture.deploy(anvil);
      BootInfo self = mockSelfBootInfo();
      AuthEthJar.contracts(
          anvil.url(), "allow-os-image", "--kms", fixture.kms(), "--hash", self.osImageHash());
      AuthEthJar.contracts(
          anvil.url(),
          "allow-kms",
          "--kms",
          fixture.kms(),
          "--mr",
          self.mrAggregated(),
          "--device-id",
          self.deviceId());
      return new Chain(anvil, fixture, self);
    } catch (Exception | Error e) {
      anvil.close();
      throw e;
    }
  }

  /** What `kms dev` attests about itself: the same deterministic mock, verified the same way. */
  private static BootInfo mockSelfBootInfo() {
    Instant now = Instant.now();
    MockTdx tdx = MockTdx.create(now);
    byte[] zero = new byte[64];
    return tdx.verifier().verify(tdx.attestation(zero), zero, now).bootInfo(false, "");
  }

  @Override
  public void close() {
    anvil.close();
  }
}
