package dev.cvmkms.kms.service;

import dev.cvmkms.kms.attestation.BootInfo;
import dev.cvmkms.kms.auth.AuthInfo;
import dev.cvmkms.kms.auth.AuthPolicy;
import dev.cvmkms.kms.auth.BootDecision;
import io.vertx.core.Future;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** An auth policy whose answers a test flips; it records every BootInfo it was asked about. */
final class FakePolicy implements AuthPolicy {
  volatile boolean allowApps = true;
  volatile boolean allowKms = true;
  volatile String reason = "app is revoked";
  volatile String gatewayAppId = "0xgateway";
  final List<BootInfo> appChecks = new CopyOnWriteArrayList<>();
  final List<BootInfo> kmsChecks = new CopyOnWriteArrayList<>();

  @Override
  public Future<AuthInfo> info() {
    return Future.succeededFuture(AuthInfo.dev(gatewayAppId));
  }

  @Override
  public Future<BootDecision> checkApp(BootInfo boot) {
    appChecks.add(boot);
    return Future.succeededFuture(decide(allowApps));
  }

  @Override
  public Future<BootDecision> checkKms(BootInfo boot) {
    kmsChecks.add(boot);
    return Future.succeededFuture(decide(allowKms));
  }

  private BootDecision decide(boolean allowed) {
    return new BootDecision(allowed, allowed ? "" : reason, gatewayAppId);
  }
}
