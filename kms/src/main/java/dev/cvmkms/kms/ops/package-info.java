/** Operations: health and readiness, Prometheus metrics, and the phased shutdown. */
package dev.cvmkms.kms.ops;
