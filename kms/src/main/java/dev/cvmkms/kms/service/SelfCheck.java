package dev.cvmkms.kms.service;

import io.vertx.core.Future;

/**
 * The gate before the trusted RPCs (spec kms-protocol §4.0(B)): is this KMS itself still allowed?
 * Fails with a {@link dev.cvmkms.kms.KmsException} when it is not, or when nobody can say.
 */
@FunctionalInterface
public interface SelfCheck {
  Future<Void> requireSelfAllowed();

  /** {@code enforce_self_authorization = false}: for dev only. */
  static SelfCheck disabled() {
    Future<Void> ok = Future.succeededFuture();
    return () -> ok;
  }
}
