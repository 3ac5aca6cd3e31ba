/**
 * Text encodings of binary data that every layer reads and writes, in one strict implementation:
 * PEM ({@link dev.cvmkms.kms.encoding.Pem}). Only the JDK: {@code keys} (certificates, keys on
 * disk), {@code attestation} (PCK chains, PCCS collateral, trust anchors) and the CLI share it.
 */
@NullMarked
package dev.cvmkms.kms.encoding;

import org.jspecify.annotations.NullMarked;
