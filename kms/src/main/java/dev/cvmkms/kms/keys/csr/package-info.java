/**
 * dstack's SCALE certificate signing requests (spec kms-protocol.md §10.8): decoding V1/V2,
 * checking the DER ECDSA P-256 signature over the SCALE bytes and the confirm word. The SCALE codec
 * itself is the project's one, {@link dev.cvmkms.kms.attestation.ratls.ScaleReader} and {@link
 * dev.cvmkms.kms.attestation.ratls.ScaleWriter}.
 *
 * <p>Input comes from the network: every length is checked against the remaining input and a cap
 * before anything is allocated, and every failure is a clean {@link
 * dev.cvmkms.kms.attestation.ratls.ScaleException} or {@link CsrException}. {@link AttestedCsr}
 * decodes the embedded attestation and verifies it against the CSR's key; issuing the certificate
 * is {@code keys}' {@code AppCertificates}.
 */
@NullMarked
package dev.cvmkms.kms.keys.csr;

import org.jspecify.annotations.NullMarked;
