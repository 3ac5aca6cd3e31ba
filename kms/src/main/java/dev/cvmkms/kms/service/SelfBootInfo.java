package dev.cvmkms.kms.service;

import dev.cvmkms.kms.attestation.BootInfo;
import dev.cvmkms.kms.attestation.ratls.VersionedAttestation;
import dev.cvmkms.kms.rpc.CryptoPool;
import io.vertx.core.Future;
import java.util.function.Supplier;

/**
 * The KMS's own BootInfo (spec §4.0(B)2): attest over 64 zero bytes, verify the result fully, and
 * build the BootInfo with the runtime RTMR3 and the attestation's own vm_config. Runs on the crypto
 * pool; the caller memoizes success (SelfAuthorization does).
 */
public final class SelfBootInfo implements Supplier<Future<BootInfo>> {
  private final CryptoPool crypto;
  private final KmsAttestation attestation;

  public SelfBootInfo(CryptoPool crypto, KmsAttestation attestation) {
    this.crypto = crypto;
    this.attestation = attestation;
  }

  @Override
  public Future<BootInfo> get() {
    return crypto.run(
        () -> {
          byte[] zero = new byte[64];
          VersionedAttestation own = VersionedAttestation.decode(attestation.attest(zero));
          return attestation
              .verifier()
              .verify(own, zero, attestation.clock().instant())
              .bootInfo(false, "");
        });
  }
}
