/**
 * The KMS configuration: {@code kms.toml} (dstack's keys where the concept is the same, plus ours)
 * read by {@link dev.cvmkms.kms.config.KmsConfigLoader} into validated records rooted at {@link
 * dev.cvmkms.kms.config.KmsConfig}. Unknown keys and {@code KMS__} environment variables are
 * errors; every failure is a {@link dev.cvmkms.kms.config.ConfigException} naming the key. See
 * {@code kms/kms.example.toml} for every key with its default.
 */
@NullMarked
package dev.cvmkms.kms.config;

import org.jspecify.annotations.NullMarked;
