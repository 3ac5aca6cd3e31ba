package dev.cvmkms.kms.attestation.dcap;

import dev.cvmkms.kms.attestation.AttestationException;
import dev.cvmkms.kms.attestation.AttestationException.Reason;

/** Intel's TCB status values; {@link #intelName()} is the string in collateral and BootInfo. */
public enum TcbStatus {
  UP_TO_DATE("UpToDate"),
  SW_HARDENING_NEEDED("SWHardeningNeeded"),
  CONFIGURATION_NEEDED("ConfigurationNeeded"),
  CONFIGURATION_AND_SW_HARDENING_NEEDED("ConfigurationAndSWHardeningNeeded"),
  OUT_OF_DATE("OutOfDate"),
  OUT_OF_DATE_CONFIGURATION_NEEDED("OutOfDateConfigurationNeeded"),
  TD_RELAUNCH_ADVISED("TDRelaunchAdvised"),
  TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED("TDRelaunchAdvisedConfigurationNeeded"),
  REVOKED("Revoked");

  private final String intelName;

  TcbStatus(String intelName) {
    this.intelName = intelName;
  }

  public String intelName() {
    return intelName;
  }

  public static TcbStatus fromIntel(String s) {
    for (TcbStatus t : values()) {
      if (t.intelName.equals(s)) {
        return t;
      }
    }
    throw new AttestationException(Reason.INVALID_COLLATERAL, "unknown tcbStatus " + s);
  }

  /**
   * Applies a module or QE status to the platform status the way Intel's QVL combines them:
   * OutOfDate downgrades UpToDate/SWHardening to OutOfDate and the configuration statuses to
   * OutOfDateConfigurationNeeded; Revoked wins over everything.
   */
  TcbStatus combinedWith(TcbStatus other) {
    if (this == REVOKED || other == REVOKED) {
      return REVOKED;
    }
    if (other == OUT_OF_DATE) {
      return switch (this) {
        case UP_TO_DATE, SW_HARDENING_NEEDED -> OUT_OF_DATE;
        case CONFIGURATION_NEEDED, CONFIGURATION_AND_SW_HARDENING_NEEDED ->
            OUT_OF_DATE_CONFIGURATION_NEEDED;
        default -> this;
      };
    }
    return this;
  }

  @Override
  public String toString() {
    return intelName;
  }
}
