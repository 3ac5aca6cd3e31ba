package dev.cvmkms.kms.service;

import dev.cvmkms.kms.attestation.BootInfo;
import dev.cvmkms.kms.attestation.eventlog.AppInfo;
import java.util.Objects;

/**
 * A caller the auth policy allowed (spec §4.0(C) step 5): the BootInfo it was judged on, the raw
 * identity the keys are derived from, and the webhook's gateway app id.
 */
public record AuthorizedBoot(BootInfo boot, AppInfo app, String gatewayAppId) {
  public AuthorizedBoot {
    Objects.requireNonNull(boot, "boot");
    Objects.requireNonNull(app, "app");
    Objects.requireNonNull(gatewayAppId, "gatewayAppId");
  }

  /** The 20-byte app id (a copy). */
  public byte[] appId() {
    return app.appId().clone();
  }

  /** The instance id, 20 bytes or empty (a copy). */
  public byte[] instanceId() {
    return app.instanceId().clone();
  }

  @Override
  public String toString() {
    return "AuthorizedBoot[app=" + boot.appId() + ", instance=" + boot.instanceId() + "]";
  }
}
