package dev.cvmkms.kms.attestation;

import dev.cvmkms.kms.attestation.AttestationException.Reason;
import dev.cvmkms.kms.attestation.dcap.VerifiedQuote;
import dev.cvmkms.kms.attestation.eventlog.AppInfo;
import dev.cvmkms.kms.attestation.ratls.VersionedAttestation;
import org.jspecify.annotations.Nullable;

/**
 * An attestation whose quote passed DCAP, whose runtime events replay to the quoted RTMR3 and whose
 * report data matches what the caller bound. The identity derivation depends on the RPC: {@code
 * bootTimeMr} is false for GetAppKey/GetKmsKey/self checks and true for SignCert.
 */
public record VerifiedAttestation(VersionedAttestation attestation, VerifiedQuote quote) {

  /** The PCK PPID (raw device id); the BootInfo carries its SHA-256. */
  public byte[] ppid() {
    return quote.ppid();
  }

  /**
   * vm_config: the request's value, else the one embedded in the attestation, else "{}".
   *
   * @param requestVmConfig may be null or empty
   */
  public AppInfo appInfo(boolean bootTimeMr, @Nullable String requestVmConfig) {
    String vm = requestVmConfig;
    if (vm == null || vm.isEmpty()) {
      vm = attestation.config();
    }
    if (vm == null || vm.isEmpty()) {
      vm = "{}";
    }
    return AppInfo.derive(
        quote.quote().body(), attestation.runtimeEvents(), quote.ppid(), vm, bootTimeMr);
  }

  /** The BootInfo fields; rejects an app id that is not 20 bytes, as dstack does. */
  public BootInfo bootInfo(boolean bootTimeMr, @Nullable String requestVmConfig) {
    AppInfo a = appInfo(bootTimeMr, requestVmConfig);
    if (a.appId().length != 20) {
      throw new AttestationException(
          Reason.EVENT_LOG_INVALID, "app id is " + a.appId().length + " bytes, not 20");
    }
    return new BootInfo(
        BootInfo.TEE_VARIANT_TDX,
        Bytes.hex(a.mrAggregated()),
        Bytes.hex(a.osImageHash()),
        Bytes.hex(a.mrSystem()),
        Bytes.hex(a.appId()),
        Bytes.hex(a.composeHash()),
        Bytes.hex(a.instanceId()),
        Bytes.hex(a.deviceId()),
        Bytes.hex(a.keyProviderInfo()),
        quote.status().intelName(),
        quote.advisoryIds());
  }
}
