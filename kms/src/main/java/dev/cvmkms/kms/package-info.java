/** The KMS's entry point, runtime wiring and the key state it bootstraps, onboards or loads. */
package dev.cvmkms.kms;
