/**
 * The RA-TLS KMS client: what a dstack guest (or an onboarding KMS) does to talk to a KMS. It asks
 * GetTempCaCert, makes an RA-TLS client certificate under the temp CA with its own attestation, and
 * calls the target RPC over mutual TLS. Unlike dstack's onboarding client it always verifies the
 * server: chain to the trusted root, hostname, {@code kms:rpc} usage and, if present (or required),
 * the RPC certificate's attestation.
 *
 * <p>Also the KMS's other outbound adapter, the image verifier ({@link
 * dev.cvmkms.kms.client.ImageVerifier}, {@link dev.cvmkms.kms.client.HttpImageVerifier}).
 */
@NullMarked
package dev.cvmkms.kms.client;

import org.jspecify.annotations.NullMarked;
