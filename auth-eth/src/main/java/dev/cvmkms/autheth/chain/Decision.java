package dev.cvmkms.autheth.chain;

/** The contract's answer: {@code reason} is empty when allowed. */
public record Decision(boolean allowed, String reason) {}
