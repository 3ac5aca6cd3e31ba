/**
 * The Ethereum side: one shared JSON-RPC client with deadlines, backoff, Retry-After and circuit
 * breakers, and the DstackKms/DstackApp contract reads on top of it.
 */
@NullMarked
package dev.cvmkms.autheth.chain;

import org.jspecify.annotations.NullMarked;
