package dev.cvmkms.autheth.policy;

/** The webhook answer, in upstream's key order. */
public record BootResponse(boolean isAllowed, String reason, String gatewayAppId) {
  public static final String UNAVAILABLE = "authorization backend unavailable";

  public static BootResponse unavailable() {
    return new BootResponse(false, UNAVAILABLE, "");
  }
}
