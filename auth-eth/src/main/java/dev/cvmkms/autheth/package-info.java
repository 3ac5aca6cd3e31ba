/**
 * The auth-eth webhook's entry point and the service that wires chain, policy and HTTP together.
 */
@NullMarked
package dev.cvmkms.autheth;

import org.jspecify.annotations.NullMarked;
