package dev.cvmkms.kms.attestation;

import java.util.List;
import java.util.Objects;

/**
 * The facts about a booting CVM that the auth service decides on, as sent to {@code
 * /bootAuth/app|kms} (spec kms-protocol §7.2). Byte fields are lowercase hex without {@code 0x};
 * empty strings where the event is absent. Made from a verified attestation ({@link
 * VerifiedAttestation#bootInfo}); the auth package sends it as is.
 */
public record BootInfo(
    String teeVariant,
    String mrAggregated,
    String osImageHash,
    String mrSystem,
    String appId,
    String composeHash,
    String instanceId,
    String deviceId,
    String keyProviderInfo,
    String tcbStatus,
    List<String> advisoryIds) {
  public static final String TEE_VARIANT_TDX = "dstack-tdx";

  public BootInfo {
    Objects.requireNonNull(teeVariant, "teeVariant");
    Objects.requireNonNull(mrAggregated, "mrAggregated");
    Objects.requireNonNull(osImageHash, "osImageHash");
    Objects.requireNonNull(mrSystem, "mrSystem");
    Objects.requireNonNull(appId, "appId");
    Objects.requireNonNull(composeHash, "composeHash");
    Objects.requireNonNull(instanceId, "instanceId");
    Objects.requireNonNull(deviceId, "deviceId");
    Objects.requireNonNull(keyProviderInfo, "keyProviderInfo");
    Objects.requireNonNull(tcbStatus, "tcbStatus");
    advisoryIds = List.copyOf(advisoryIds);
  }

  public BootInfo withOsImageHash(String hex) {
    return new BootInfo(
        teeVariant,
        mrAggregated,
        hex,
        mrSystem,
        appId,
        composeHash,
        instanceId,
        deviceId,
        keyProviderInfo,
        tcbStatus,
        advisoryIds);
  }
}
