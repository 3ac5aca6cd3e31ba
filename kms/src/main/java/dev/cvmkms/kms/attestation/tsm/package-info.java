/**
 * Quotes through Linux configfs-tsm, behind a small file-system seam so tests can model the
 * kernel's semantics.
 */
@NullMarked
package dev.cvmkms.kms.attestation.tsm;

import org.jspecify.annotations.NullMarked;
