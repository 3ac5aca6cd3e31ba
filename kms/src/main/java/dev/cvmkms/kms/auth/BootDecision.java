package dev.cvmkms.kms.auth;

import java.util.Objects;

/** The auth service's answer for one BootInfo. Never cached across requests. */
public record BootDecision(boolean isAllowed, String reason, String gatewayAppId) {
  public BootDecision {
    Objects.requireNonNull(reason, "reason");
    Objects.requireNonNull(gatewayAppId, "gatewayAppId");
  }
}
