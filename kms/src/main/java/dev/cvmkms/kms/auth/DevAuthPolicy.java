package dev.cvmkms.kms.auth;

import dev.cvmkms.kms.attestation.BootInfo;
import io.vertx.core.Future;

/** {@code [core.auth_api] type = "dev"}: everything is allowed; for local development only. */
public final class DevAuthPolicy implements AuthPolicy {
  private final Future<AuthInfo> info;
  private final String gatewayAppId;

  public DevAuthPolicy(String gatewayAppId) {
    this.gatewayAppId = gatewayAppId;
    this.info = Future.succeededFuture(AuthInfo.dev(gatewayAppId));
  }

  @Override
  public Future<AuthInfo> info() {
    return info;
  }

  @Override
  public Future<BootDecision> checkApp(BootInfo boot) {
    return Future.succeededFuture(new BootDecision(true, "", gatewayAppId));
  }

  @Override
  public Future<BootDecision> checkKms(BootInfo boot) {
    return Future.succeededFuture(new BootDecision(true, "", gatewayAppId));
  }
}
