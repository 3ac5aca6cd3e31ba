/** The dstack guest agent client (GetQuote, Attest) over its Unix socket. */
@NullMarked
package dev.cvmkms.kms.attestation.agent;

import org.jspecify.annotations.NullMarked;
