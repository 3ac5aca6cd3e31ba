package dev.cvmkms.kms.auth;

import dev.cvmkms.kms.attestation.BootInfo;
import io.vertx.core.Future;

/**
 * The boot policy the KMS consults before releasing anything (dstack's {@code AuthApi}).
 *
 * <p>{@link #info()} is metadata and may be served from a cache; {@link #checkApp} and {@link
 * #checkKms} are decisions and are never reused across requests.
 */
public interface AuthPolicy {
  /** Deployment metadata for GetMeta. */
  Future<AuthInfo> info();

  /** May this app boot ({@code POST /bootAuth/app})? */
  Future<BootDecision> checkApp(BootInfo boot);

  /** May this KMS instance boot ({@code POST /bootAuth/kms})? */
  Future<BootDecision> checkKms(BootInfo boot);
}
