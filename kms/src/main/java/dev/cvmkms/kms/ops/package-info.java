/** Operations: health and readiness, Prometheus metrics, and the phased shutdown. */
@NullMarked
package dev.cvmkms.kms.ops;

import org.jspecify.annotations.NullMarked;
