/**
 * TDX attestation for the KMS: making quotes ({@link dev.cvmkms.kms.attestation.QuoteProvider}),
 * verifying callers' RA-TLS attestations ({@link dev.cvmkms.kms.attestation.AttestationVerifier})
 * and deriving their app identity. Pure Java: nothing here imports Vert.x, and nothing reads the
 * clock inside verification (time is an input).
 */
@NullMarked
package dev.cvmkms.kms.attestation;

import org.jspecify.annotations.NullMarked;
