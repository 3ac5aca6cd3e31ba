package dev.cvmkms.kms.auth;

import java.util.Objects;
import java.util.Optional;

/**
 * What the auth service says about the deployment (webhook {@code GET <url>}): served by GetMeta.
 * In dev mode the chain fields are absent and {@code isDev} is true.
 */
public record AuthInfo(
    boolean isDev,
    Optional<String> gatewayAppId,
    Optional<String> kmsContractAddress,
    Optional<Long> chainId,
    Optional<String> appAuthImplementation,
    Optional<String> ethRpcUrl) {

  public AuthInfo {
    Objects.requireNonNull(gatewayAppId, "gatewayAppId");
    Objects.requireNonNull(kmsContractAddress, "kmsContractAddress");
    Objects.requireNonNull(chainId, "chainId");
    Objects.requireNonNull(appAuthImplementation, "appAuthImplementation");
    Objects.requireNonNull(ethRpcUrl, "ethRpcUrl");
  }

  /** Dev mode: everything allowed, only the configured gateway app id is known. */
  public static AuthInfo dev(String gatewayAppId) {
    return new AuthInfo(
        true,
        Optional.of(gatewayAppId),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty());
  }
}
