/**
 * The boot decision: boot info parsing, the cached contract metadata (single-flight loads,
 * scheduled refresh) and the allow/deny decision made from it without waiting on the chain.
 */
@NullMarked
package dev.cvmkms.autheth.policy;

import org.jspecify.annotations.NullMarked;
