/**
 * dstack RA-TLS: certificate extensions (OIDs 1.3.6.1.4.1.62397.1.x) and the VersionedAttestation
 * wire formats (V0 SCALE, V1 msgpack), with their small codecs.
 */
@NullMarked
package dev.cvmkms.kms.attestation.ratls;

import org.jspecify.annotations.NullMarked;
