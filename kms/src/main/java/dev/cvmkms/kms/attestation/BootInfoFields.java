package dev.cvmkms.kms.attestation;

import java.util.List;

/**
 * The attestation-derived half of the auth webhook's BootInfo (kms-protocol §10.5), byte fields as
 * lowercase hex, names as in the webhook JSON. The auth package adds nothing to these values.
 */
public record BootInfoFields(
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
}
