/**
 * Operations: health and readiness, Prometheus metrics, the phased shutdown, and the listeners the
 * wiring starts besides the pRPC one (the onboarding page and its {@code Onboard.*} RPCs).
 */
package dev.cvmkms.kms.ops;
