/**
 * dstack RA-TLS: certificate extensions (OIDs 1.3.6.1.4.1.62397.1.x) and the VersionedAttestation
 * wire formats (V0 SCALE, V1 msgpack), with their small codecs. {@link
 * dev.cvmkms.kms.attestation.ratls.ScaleReader} is the one strict SCALE decoder of the KMS
 * (shortest compact forms only), also used for the SCALE CSRs of {@code keys.csr}.
 */
@NullMarked
package dev.cvmkms.kms.attestation.ratls;

import org.jspecify.annotations.NullMarked;
