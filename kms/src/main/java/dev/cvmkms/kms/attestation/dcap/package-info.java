/**
 * Intel DCAP for TDX, in-house: the quote parser, the verifier, collateral (PCCS client, cache) and
 * the pinned Intel SGX Root CA. Not for SGX enclave quotes.
 */
@NullMarked
package dev.cvmkms.kms.attestation.dcap;

import org.jspecify.annotations.NullMarked;
