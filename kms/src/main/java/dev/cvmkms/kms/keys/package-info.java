/**
 * The KMS's long-lived key material: the four root keys, the certificates made from them (dstack's
 * exact profiles), the app CA and app certificates with their app-info extension ({@link
 * dev.cvmkms.kms.keys.AppCertificates}), and their on-disk form in {@code cert_dir}.
 *
 * <p>Pure Java (JDK + BouncyCastle): no Vert.x, no network. Callers run this code on a worker
 * thread or at start-up. Attestation is reached only through {@link
 * dev.cvmkms.kms.keys.KeyAttester}.
 */
@NullMarked
package dev.cvmkms.kms.keys;

import org.jspecify.annotations.NullMarked;
