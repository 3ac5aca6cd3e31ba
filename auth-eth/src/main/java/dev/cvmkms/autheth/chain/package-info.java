/**
 * The Ethereum side: one shared JSON-RPC client with deadlines, backoff, Retry-After and circuit
 * breakers, and the DstackKms/DstackApp contract reads on top of it with their argument and answer
 * types ({@code BootInfo}, {@code Decision}). It uses nothing from {@code policy}, which calls it.
 */
@NullMarked
package dev.cvmkms.autheth.chain;

import org.jspecify.annotations.NullMarked;
