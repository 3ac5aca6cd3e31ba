/**
 * The outbound machinery shared by every upstream of the KMS (ARCHITECTURE §4): one Resilience4j
 * breaker per upstream, full-jitter backoff, Retry-After, deadlines, and the {@code kms.upstream.*}
 * meters; plus the clients of the PCCS, the guest agent transport and (in {@code client}) the image
 * verifier built on it. Pure Java (no Vert.x), so the attestation stack and the CLI use it as is.
 */
@NullMarked
package dev.cvmkms.kms.upstream;

import org.jspecify.annotations.NullMarked;
