package dev.cvmkms.kms.service;

import dev.cvmkms.kms.KmsException;
import dev.cvmkms.kms.attestation.BootInfo;
import dev.cvmkms.kms.attestation.VerifiedAttestation;
import dev.cvmkms.kms.attestation.eventlog.AppInfo;
import dev.cvmkms.kms.auth.AuthPolicy;
import dev.cvmkms.kms.auth.BootDecision;
import dev.cvmkms.kms.client.ImageVerifier;
import dev.cvmkms.kms.rpc.CryptoPool;
import io.vertx.core.Future;
import java.util.Objects;

/**
 * dstack's {@code ensure_app_attestation_allowed} followed by {@code ensure_key_release_allowed}
 * (spec §4.0(C), (D)): build the BootInfo from a verified attestation, ask the policy (never
 * cached), verify the OS image, then apply the local per-TEE release gate.
 */
public final class AppAuthorization {
  static final String SEV_SNP = "dstack-amd-sev-snp";
  static final String AWS_NITRO_TPM = "dstack-aws-nitro-tpm";

  private final AuthPolicy policy;
  private final ImageVerifier images;
  private final CryptoPool crypto;
  private final boolean sevSnpKeyRelease;
  private final boolean awsNitroTpmKeyRelease;

  public AppAuthorization(
      AuthPolicy policy,
      ImageVerifier images,
      CryptoPool crypto,
      boolean sevSnpKeyRelease,
      boolean awsNitroTpmKeyRelease) {
    this.policy = Objects.requireNonNull(policy, "policy");
    this.images = Objects.requireNonNull(images, "images");
    this.crypto = Objects.requireNonNull(crypto, "crypto");
    this.sevSnpKeyRelease = sevSnpKeyRelease;
    this.awsNitroTpmKeyRelease = awsNitroTpmKeyRelease;
  }

  /**
   * Steps (C) and (D). {@code trail} learns the caller's identity as soon as it is known, so
   * denials are audited with it.
   *
   * @param isKms posts to {@code /bootAuth/kms} instead of {@code /bootAuth/app}
   * @param bootTimeMr RTMR3 up to {@code boot-mr-done} and no key provider (SignCert)
   * @param vmConfig the request's vm_config; empty falls back to the attestation's own
   */
  public Future<AuthorizedBoot> authorize(
      VerifiedAttestation attestation,
      boolean isKms,
      boolean bootTimeMr,
      String vmConfig,
      AuditTrail trail) {
    return crypto
        .run(() -> identify(attestation, bootTimeMr, vmConfig, trail))
        .compose(
            identified -> {
              BootInfo boot = identified.boot();
              Future<BootDecision> decision = isKms ? policy.checkKms(boot) : policy.checkApp(boot);
              return decision.compose(
                  d -> {
                    if (!d.isAllowed()) {
                      return Future.failedFuture(
                          new KmsException(KmsException.Kind.DENIED, "Boot denied: " + d.reason()));
                    }
                    Future<Void> image =
                        SEV_SNP.equals(boot.teeVariant())
                            ? Future.succeededFuture()
                            : images.verify(attestation, vmConfig, boot);
                    return image.compose(
                        v -> {
                          requireKeyReleaseAllowed(boot);
                          return Future.succeededFuture(
                              new AuthorizedBoot(boot, identified.app(), d.gatewayAppId()));
                        });
                  });
            });
  }

  private record Identified(BootInfo boot, AppInfo app) {}

  private static Identified identify(
      VerifiedAttestation attestation, boolean bootTimeMr, String vmConfig, AuditTrail trail) {
    AppInfo app = attestation.appInfo(bootTimeMr, vmConfig);
    trail.identify(app);
    if (app.appId().length != 20) {
      throw KmsException.invalid("app_id must be 20 bytes");
    }
    BootInfo boot = attestation.bootInfo(bootTimeMr, vmConfig);
    return new Identified(boot, app);
  }

  /** (D): SEV-SNP and NitroTPM callers only when the operator opted in; TDX always passes. */
  void requireKeyReleaseAllowed(BootInfo boot) {
    if (SEV_SNP.equals(boot.teeVariant()) && !sevSnpKeyRelease) {
      throw new KmsException(KmsException.Kind.DENIED, "amd sev-snp key release is not enabled");
    }
    if (AWS_NITRO_TPM.equals(boot.teeVariant()) && !awsNitroTpmKeyRelease) {
      throw new KmsException(KmsException.Kind.DENIED, "aws nitro tpm key release is not enabled");
    }
  }
}
