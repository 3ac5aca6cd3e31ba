package dev.cvmkms.autheth.policy;

/** What {@code GET /} reports from the chain. */
public record Metadata(long chainId, String gatewayAppId, String appImplementation) {}
