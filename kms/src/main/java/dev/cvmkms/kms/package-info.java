/** The KMS's entry point, runtime wiring and the key state it bootstraps, onboards or loads. */
@NullMarked
package dev.cvmkms.kms;

import org.jspecify.annotations.NullMarked;
