package dev.cvmkms.kms.keys;

import java.io.IOException;

/**
 * Produces an attestation of this CVM over 64 bytes of report data (the guest agent's {@code
 * Attest}, or a mock in tests). The result is opaque here: serialized {@code VersionedAttestation}
 * bytes.
 *
 * <p>The same seam serves two uses with different expectations: for the RPC certificate's {@code
 * 1.3.6.1.4.1.62397.1.8} extension the bytes should be the <em>stripped</em> form (spec §10.2); for
 * {@code bootstrap-info.json} they are the raw, unstripped bytes. The implementation decides.
 */
@FunctionalInterface
public interface KeyAttester {
  /**
   * Returns serialized VersionedAttestation bytes over {@code reportData64}.
   *
   * @param reportData64 exactly 64 bytes
   */
  byte[] attest(byte[] reportData64) throws IOException;
}
