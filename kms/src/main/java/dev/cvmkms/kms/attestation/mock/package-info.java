/**
 * The mock TDX platform for {@code kms dev} and CI: a deterministic PKI, quote generator,
 * collateral and a PCS-shaped HTTP stub. Everything it signs is trusted only through an insecure
 * trust anchor; production must never configure it.
 */
@NullMarked
package dev.cvmkms.kms.attestation.mock;

import org.jspecify.annotations.NullMarked;
