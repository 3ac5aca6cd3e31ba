/**
 * Byte-exact key derivation (spec kms-protocol.md §9): HKDF with salt {@code RATLS}, the derived
 * P-256 keys and DH secrets, the per-app key material and the secp256k1 signatures over it.
 *
 * <p>Pure functions of their inputs: no I/O, no clock, no Vert.x. A change here changes every app's
 * disk key, so every function is pinned by vectors produced by the Rust implementation.
 */
@NullMarked
package dev.cvmkms.kms.keys.derivation;

import org.jspecify.annotations.NullMarked;
