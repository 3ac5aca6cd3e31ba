/** The dstack guest agent client (GetQuote, Attest) over its Unix socket. */
package dev.cvmkms.kms.attestation.agent;
