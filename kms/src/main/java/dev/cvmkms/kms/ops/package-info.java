/**
 * Operations: health and readiness, Prometheus metrics, the phased shutdown, and the listeners the
 * wiring starts besides the pRPC one (the onboarding page and its {@code Onboard.*} RPCs).
 */
@NullMarked
package dev.cvmkms.kms.ops;

import org.jspecify.annotations.NullMarked;
