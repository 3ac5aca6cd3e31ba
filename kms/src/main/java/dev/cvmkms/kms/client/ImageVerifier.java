package dev.cvmkms.kms.client;

import dev.cvmkms.kms.KmsException;
import dev.cvmkms.kms.attestation.BootInfo;
import dev.cvmkms.kms.attestation.VerifiedAttestation;
import io.vertx.core.Future;

/**
 * OS image verification (spec §4.0(C)4, §10.7): binds the {@code os_image_hash} a caller claims in
 * its vm_config to the measurements in its quote. Without it the hash sent to the auth API is
 * whatever the host put in vm_config.
 *
 * <p>This KMS has no in-process verifier: dstack's legacy mode needs the image archive and the
 * external {@code dstack-acpi-tables} tool, and the lite mode's CBOR measurement document and MR
 * computation are not specified precisely enough to be re-implemented byte for byte. So with {@code
 * [core.image] verify = true} every attested RPC fails closed ({@link #failClosed}) until a
 * verifier exists; {@code verify = false} (and {@code kms dev}) trusts the claim, which {@code kms
 * serve} reports as an insecure setting.
 */
@FunctionalInterface
public interface ImageVerifier {
  /** dstack's message prefix for a verification failure. */
  String FAILURE_PREFIX = "Failed to verify os image hash: ";

  /**
   * Succeeds when the OS image named by {@code boot.osImageHash()} measures to the quote in {@code
   * attestation}; fails with a {@link KmsException} otherwise, or when nobody can tell.
   */
  Future<Void> verify(VerifiedAttestation attestation, String vmConfig, BootInfo boot);

  /** {@code verify = false}: the caller's claim is passed on unchecked. */
  static ImageVerifier disabled() {
    Future<Void> ok = Future.succeededFuture();
    return (attestation, vmConfig, boot) -> ok;
  }

  /** {@code verify = true} with nothing able to verify: every request is refused. */
  static ImageVerifier failClosed(String why) {
    return (attestation, vmConfig, boot) ->
        Future.failedFuture(
            new KmsException(KmsException.Kind.UPSTREAM_UNAVAILABLE, FAILURE_PREFIX + why));
  }
}
