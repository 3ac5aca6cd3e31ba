package dev.cvmkms.kms.attestation.mock;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * What the mock collateral should say. The defaults describe a healthy mock platform (FMSPC
 * 000000000000, one UpToDate level with every SVN at 0, TDX_01 module levels, QE Identity matching
 * the mock QE); each field can be bent to build one case of the negative matrix.
 */
public record MockCollateralSpec(
    Instant issuedAt,
    Duration validity,
    String fmspc,
    String pceId,
    String platformStatus,
    List<String> platformAdvisories,
    boolean noMatchingPlatformLevel,
    String moduleStatus,
    String qeMrSignerHex,
    int qeIsvProdId,
    boolean revokePck) {

  public static final String QE_MRSIGNER = "44".repeat(32);

  /** Valid from one day before {@code now} for 30 days, as dstack's mock does. */
  public static MockCollateralSpec healthy(Instant now) {
    return new MockCollateralSpec(
        now.minus(Duration.ofDays(1)),
        Duration.ofDays(30),
        "000000000000",
        "0000",
        "UpToDate",
        List.of(),
        false,
        "UpToDate",
        QE_MRSIGNER,
        1,
        false);
  }

  public Instant nextUpdate() {
    return issuedAt.plus(validity);
  }

  public MockCollateralSpec withFmspc(String v) {
    return new MockCollateralSpec(
        issuedAt,
        validity,
        v,
        pceId,
        platformStatus,
        platformAdvisories,
        noMatchingPlatformLevel,
        moduleStatus,
        qeMrSignerHex,
        qeIsvProdId,
        revokePck);
  }

  public MockCollateralSpec withPlatformStatus(String v, List<String> advisories) {
    return new MockCollateralSpec(
        issuedAt,
        validity,
        fmspc,
        pceId,
        v,
        advisories,
        noMatchingPlatformLevel,
        moduleStatus,
        qeMrSignerHex,
        qeIsvProdId,
        revokePck);
  }

  public MockCollateralSpec withNoMatchingPlatformLevel() {
    return new MockCollateralSpec(
        issuedAt,
        validity,
        fmspc,
        pceId,
        platformStatus,
        platformAdvisories,
        true,
        moduleStatus,
        qeMrSignerHex,
        qeIsvProdId,
        revokePck);
  }

  public MockCollateralSpec withModuleStatus(String v) {
    return new MockCollateralSpec(
        issuedAt,
        validity,
        fmspc,
        pceId,
        platformStatus,
        platformAdvisories,
        noMatchingPlatformLevel,
        v,
        qeMrSignerHex,
        qeIsvProdId,
        revokePck);
  }

  public MockCollateralSpec withQeMrSigner(String hex) {
    return new MockCollateralSpec(
        issuedAt,
        validity,
        fmspc,
        pceId,
        platformStatus,
        platformAdvisories,
        noMatchingPlatformLevel,
        moduleStatus,
        hex,
        qeIsvProdId,
        revokePck);
  }

  public MockCollateralSpec withRevokedPck() {
    return new MockCollateralSpec(
        issuedAt,
        validity,
        fmspc,
        pceId,
        platformStatus,
        platformAdvisories,
        noMatchingPlatformLevel,
        moduleStatus,
        qeMrSignerHex,
        qeIsvProdId,
        true);
  }
}
