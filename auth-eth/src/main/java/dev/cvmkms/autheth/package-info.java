/**
 * The auth-eth webhook's entry point and the service that wires chain, policy and HTTP together.
 */
package dev.cvmkms.autheth;
