/**
 * Quotes through Linux configfs-tsm, behind a small file-system seam so tests can model the
 * kernel's semantics.
 */
package dev.cvmkms.kms.attestation.tsm;
