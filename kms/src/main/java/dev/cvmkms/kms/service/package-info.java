/**
 * The proto services (one class each): orchestration of auth checks, attestation and key material.
 * No HTTP here: requests arrive decoded from the rpc edge and leave as proto messages.
 */
@NullMarked
package dev.cvmkms.kms.service;

import org.jspecify.annotations.NullMarked;
