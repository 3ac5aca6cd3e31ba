/**
 * dstack's event log: runtime-event digests (V1/V2), RTMR replay and the app identity (BootInfo
 * fields) derived from a verified quote and its events.
 */
@NullMarked
package dev.cvmkms.kms.attestation.eventlog;

import org.jspecify.annotations.NullMarked;
